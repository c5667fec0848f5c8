/**
 * The commands end to end, as processes: `pulse produce` writes demo events,
 * `pulse speed start` consumes them until SIGTERM (exit 0 after a last
 * checkpoint), `pulse speed archive` archives in its own group, and bad
 * arguments exit 2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Admin } from 'kafkajs';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfigInput } from '../src/config/defaults.js';
import type { ArchiveProgress } from '../src/speed/archive.js';
import { readJson } from '../src/speed/ports.js';
import { openStore } from '../src/storage/index.js';
import { kafkaBrokers, uniqueName } from './support/services.js';
import { createTopic, endOffsets, testKafka, waitFor, waitForDrain } from './speed-support/kafka.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function pulse(args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

describe('pulse speed and pulse produce', () => {
  const brokers = kafkaBrokers();
  let admin: Admin;
  let dir: string;
  let config: string;
  let topic: string;

  beforeAll(async () => {
    admin = testKafka(brokers).admin();
    await admin.connect();
    dir = await mkdtemp(join(tmpdir(), 'pulse-speed-cli-'));
    topic = uniqueName('speed-cli');
    await createTopic(admin, topic, 3);
    config = join(dir, 'pulse.config.yaml');
    await writeFile(
      config,
      stringify({
        ...defaultConfigInput,
        batch: { source: './lake/raw/', viewStore: './store/', format: 'ndjson' },
        speed: { ...defaultConfigInput.speed, source: { type: 'kafka', brokers, topic, group: `${topic}-g` }, publishInterval: '300ms' },
      }),
    );
  });

  afterAll(async () => {
    await admin?.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  it('produces, consumes until SIGTERM, and archives in a separate group', { timeout: 180_000 }, async () => {
    const produced = pulse(['produce', '--config', config, '--rate', '2000', '--count', '3000', '--invalid-share', '0.1', '--seed', '3'], { PULSE_LOG_LEVEL: 'warn' });
    expect(await produced.exit, produced.output()).toBe(0);
    const report = JSON.parse(produced.output().trim().split('\n').pop()!) as { sent: number; byKind: Record<string, number> };
    expect(report.sent).toBe(3000);
    expect(report.byKind.valid).toBeLessThan(3000);

    const store = openStore(join(dir, 'store'));
    const speed = pulse(['speed', 'start', '--config', config, '--no-archive']);
    try {
      await waitForDrain(store, admin, topic, 90_000);
    } finally {
      speed.child.kill('SIGTERM');
    }
    expect(await speed.exit, speed.output()).toBe(0);
    expect(speed.output()).toContain('speed worker stopped');

    const archiver = pulse(['speed', 'archive', '--config', config]);
    const lake = openStore(join(dir, 'lake', 'raw'));
    const ends = await endOffsets(admin, topic);
    try {
      await waitFor('archive progress at the end offsets', 90_000, async () => {
        for (const [p, end] of ends) {
          const progress = await readJson<ArchiveProgress>(lake, `_progress/topic=${topic}/partition=${p}.json`);
          if (Number(progress?.offset ?? -1) !== end) return undefined;
        }
        return true;
      });
    } finally {
      archiver.child.kill('SIGTERM');
    }
    expect(await archiver.exit, archiver.output()).toBe(0);
    let lines = 0;
    for await (const { key } of lake.list(`source=kafka/topic=${topic}/`)) lines += (await lake.getBytes(key)).toString().split('\n').filter(Boolean).length;
    expect(lines).toBe(3000);
  });

  it('refuses conflicting or invalid arguments with exit 2', async () => {
    for (const args of [
      ['produce', '--config', config, '--rate', '5', '--max'],
      ['produce', '--config', config, '--rate', 'fast'],
      ['produce', '--config', config, '--duration', 'soon'],
      ['produce', '--config', config, '--invalid-share', '2'],
    ]) {
      const run = pulse(args);
      expect(await run.exit, args.join(' ')).toBe(2);
      expect(run.output()).toMatch(/pulse: /);
    }
  });
});
