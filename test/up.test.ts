/**
 * The quick start end to end: `pulse up` runs as a child process from the
 * built CLI in a fresh folder, seeds history, runs a batch, starts the speed
 * layer and serves. The served answer for a window of seeded history must
 * equal the TypeScript references over the lake's raw events; then SIGTERM
 * stops it cleanly (exit 0).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { toNativeSpecs } from '../src/config/native.js';
import { packageRoot } from '../src/core/native.js';
import { referenceParse } from './reference/parse.js';
import { ReferenceRuleSet } from './reference/rules.js';
import { ReferenceView, type Row } from './reference/aggregate.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'pulse-up-'));
const port = 20_000 + Math.floor(Math.random() * 10_000);
const base = `http://127.0.0.1:${port}`;
let child: ChildProcess | undefined;
let output = '';

afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function waitReady(deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`pulse up exited early (${child.exitCode}):\n${output}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`pulse up was not ready within ${deadlineMs} ms:\n${output}`);
}

function files(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const p = join(root, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('pulse up', () => {
  it('serves a merged view that matches the ground truth, and stops cleanly on SIGTERM', async () => {
    child = spawn(process.execPath, [cli, 'up', '--port', String(port), '--history', '30m', '--rate', '20'], {
      cwd: dir,
      env: { ...process.env, PULSE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitReady(60_000);
    expect(output).toContain(`${base}/v1/views`);

    // Ground truth: the seeded history in the lake, through the reference parser, rules and aggregator.
    const { config } = await loadConfig({ cwd: dir });
    const specs = toNativeSpecs(config);
    const view = specs.views.find((v) => v.name === 'device_temperature_1m')!;
    const lake = join(dir, '.pulse', 'lake', 'raw');
    const rules = ReferenceRuleSet.compile(specs.schema, specs.rules);
    const reference = new ReferenceView(specs.schema, view, { derivedColumns: specs.rules.derive.map((d) => d.column) });
    for (const file of files(lake)) {
      const parsed = referenceParse(specs.schema, specs.batchParse, readFileSync(file));
      const evaluated = rules.evaluate(parsed.rows);
      reference.update(evaluated.validRows.map((r) => parsed.rows[r] as Row));
    }

    // A minute well inside the seeded history is served from the batch view.
    const manifest = JSON.parse(readFileSync(join(dir, '.pulse', 'store', 'views', 'device_temperature_1m', 'batch', 'manifest.json'), 'utf8')) as { coverageEnd: number };
    const minute = manifest.coverageEnd - 10 * 60_000;
    const res = await fetch(`${base}/v1/views/device_temperature_1m?from=${new Date(minute).toISOString()}&to=${new Date(minute + 60_000).toISOString()}&device=dev-007`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: Record<string, unknown>[]; boundary: string };
    expect(Date.parse(body.boundary)).toBe(manifest.coverageEnd);
    const want = reference.query({ from: minute, to: minute + 60_000, groups: { device: 'dev-007' } });
    expect(want.length).toBe(1);
    expect(body.rows).toHaveLength(1);
    const got = body.rows[0]!;
    expect(got.count).toBe(Number(want[0]!.count));
    expect(got.min_temperature).toBe(want[0]!.min_temperature);
    expect(got.max_temperature).toBe(want[0]!.max_temperature);
    expect(Math.abs((got.avg_temperature as number) - (want[0]!.avg_temperature as number))).toBeLessThan(1e-9);
    expect(got.complete).toBe(true);

    // The realtime side is live: the generator's events reach a view within seconds.
    const until = Date.now() + 20_000;
    let watermark: string | null = null;
    while (Date.now() < until && !watermark) {
      const f = (await (await fetch(`${base}/v1/views/device_temperature_1m/freshness`)).json()) as { realtimeWatermark: string | null };
      watermark = f.realtimeWatermark;
      if (!watermark) await new Promise((r) => setTimeout(r, 500));
    }
    expect(watermark).not.toBeNull();

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 40_000))]);
    expect(code, output).toBe(0);
  }, 150_000);
});
