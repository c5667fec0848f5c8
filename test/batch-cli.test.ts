/**
 * `pulse batch run`, `pulse runs`, `pulse views` as a user runs them: child
 * processes against the real S3 server. Includes the crash test: a run
 * killed with SIGKILL mid-way leaves the previous batch view published and
 * loadable, and its lock is taken over once it expires.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../src/core/pipeline.js';
import { batchJobFromConfig } from '../src/batch/from-config.js';
import { LOCK_KEY } from '../src/batch/lock.js';
import { readManifest } from '../src/batch/manifest.js';
import { sha256Hex } from '../src/batch/hashes.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { createTestBucket, type TestBucket } from './support/s3.js';
import { BASE, cellsMismatch, covered, ndjson, perMinuteDevice, readings, tableToCells, testConfig, testConfigInput, type Reading } from './support/batch.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `pulse ARGS` in a child process; `onLine` sees each stdout line and may kill the child. */
function pulse(args: string[], onLine?: (line: string, kill: () => void) => void, timeoutMs = 120_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, PULSE_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      onLine?.(line, () => child.kill('SIGKILL'));
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('pulse batch run (CLI) against S3', () => {
  let bucket: TestBucket;
  let dir: string;
  let configFile: string;
  let store: ObjectStore;
  let rows: Reading[];
  const batchSection = () => ({ source: `s3://${bucket.name}/raw/`, viewStore: `s3://${bucket.name}/store/`, chunkSize: '64KiB', concurrency: 1, lockTtl: '3s' });

  beforeAll(async () => {
    bucket = await createTestBucket('batch-cli');
    dir = mkdtempSync(join(tmpdir(), 'pulse-batch-cli-'));
    configFile = join(dir, 'pulse.config.yaml');
    writeFileSync(configFile, stringify(testConfigInput(batchSection())));
    const job = batchJobFromConfig(testConfig(batchSection()));
    store = openStore(job.viewStore, job.storeOptions);
    const raw = openStore(job.source, job.storeOptions);
    rows = [];
    // Many objects, one at a time (concurrency 1): the run is far from done when the crash test kills it.
    await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const part = readings(1000 + i, 1000);
        rows.push(...part);
        await raw.put(`date=2026-01-01/part-${String(i).padStart(3, '0')}.ndjson`, ndjson(part));
      }),
    );
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await bucket?.remove();
  });

  it('runs, reports, and a crash mid-run leaves the previous batch view intact', async () => {
    const ok = await pulse(['--config', configFile, 'batch', 'run', '--no-progress']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/batch run \S+: success \(exit 0\); 120\/120 objects/);
    const before = (await readManifest(store, 'temp_by_device_1m'))!;

    // Kill the next run as soon as it has finished one object.
    let killed = false;
    const crashed = await pulse(['--config', configFile, 'batch', 'run', '--no-progress'], (line, kill) => {
      if (!killed && line.includes('"object.done"')) {
        killed = true;
        kill();
      }
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.stdout).not.toContain('"run.end"');

    // The previous version is still the published one, and it loads.
    const after = (await readManifest(store, 'temp_by_device_1m'))!;
    expect(after).toEqual(before);
    const bytes = await store.getBytes(after.snapshot);
    expect(sha256Hex(bytes)).toBe(after.snapshotSha256);
    const job = batchJobFromConfig(testConfig(batchSection()));
    const view = Pipeline.create(job.spec);
    view.restore('temp_by_device_1m', bytes);
    const cells = tableToCells(view.query('temp_by_device_1m', { from: BASE - 86_400_000, to: BASE + 86_400_000 }));
    expect(cellsMismatch(cells, perMinuteDevice(covered(rows, Date.now())))).toBeUndefined();

    // The dead run's lock refuses the next run until it expires, then is taken over.
    const lock = JSON.parse((await store.getBytes(LOCK_KEY)).toString()) as { runId: string; expiresAt: string };
    const wait = Date.parse(lock.expiresAt) - Date.now();
    if (wait > 1500) {
      const refused = await pulse(['--config', configFile, 'batch', 'run', '--no-progress']);
      expect(refused.code).toBe(2);
      expect(refused.stdout + refused.stderr).toContain(`another batch run holds the lock: run ${lock.runId}`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(lock.expiresAt) - Date.now() + 200)));
    const recovered = await pulse(['--config', configFile, 'batch', 'run', '--no-progress']);
    expect(recovered.code).toBe(0);
    const latest = (await readManifest(store, 'temp_by_device_1m'))!;
    expect(latest.version).not.toBe(before.version);
    expect(latest.snapshotSha256).toBe(before.snapshotSha256);
  });

  it('lists and shows runs and views', async () => {
    const runs = await pulse(['--config', configFile, 'runs', 'list']);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/^RUN\s+STATUS/m);
    const done = runs.stdout.split('\n').filter((l) => / success /.test(l));
    expect(done.length).toBeGreaterThanOrEqual(1);
    const runId = done[0]!.split(/\s+/)[0]!;

    const show = await pulse(['--config', configFile, 'runs', 'show', runId]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ runId, status: 'success', exitCode: 0 });
    const events = await pulse(['--config', configFile, 'runs', 'show', runId, '--events']);
    expect(events.stdout.trim().split('\n').map((l) => JSON.parse(l).type)).toContain('view.published');
    const missing = await pulse(['--config', configFile, 'runs', 'show', '20260101T000000Z-00000000']);
    expect(missing.code).toBe(2);

    const views = await pulse(['--config', configFile, 'views', 'list']);
    expect(views.code).toBe(0);
    for (const v of ['temp_by_device_1m', 'activity_5m', 'device_sessions']) expect(views.stdout).toMatch(new RegExp(`^${v}\\s+\\d{8}T\\d{6}\\.\\d{3}Z-`, 'm'));
    const shown = await pulse(['--config', configFile, 'views', 'show', 'activity_5m']);
    const parsed = JSON.parse(shown.stdout) as { published: { view: string }; versions: string[] };
    expect(parsed.published.view).toBe('activity_5m');
    expect(parsed.versions.length).toBeGreaterThanOrEqual(2);
    expect((await pulse(['--config', configFile, 'views', 'show', 'nope'])).code).toBe(2);
  });

  it('refuses bad arguments with exit code 2', async () => {
    expect((await pulse(['--config', configFile, 'batch', 'run', '--from', 'yesterday'])).code).toBe(2);
    expect((await pulse(['--config', configFile, 'batch', 'run', '--shard', '3/2', '--run-id', '20260101T000000Z-0000abcd'])).code).toBe(2);
    expect((await pulse(['--config', configFile, 'batch', 'run', '--shard', '0/2'])).code).toBe(2);
  });
});
