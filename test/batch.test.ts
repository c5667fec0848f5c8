/**
 * The batch layer end to end against the real S3 server (S3Proxy) and the
 * real native pipeline: listing across pages, gzip, rejects, records
 * spanning chunks, determinism, partial runs, the run lock, coverage from
 * the archive's progress, shards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../src/core/pipeline.js';
import { listVersions, readManifest, manifestKey } from '../src/batch/manifest.js';
import { batchJobFromConfig } from '../src/batch/from-config.js';
import { auditKey, eventsKey } from '../src/batch/events.js';
import { LOCK_KEY } from '../src/batch/lock.js';
import { rejectKey } from '../src/batch/rejects.js';
import { runBatch } from '../src/batch/run.js';
import { mergeShards, runShard } from '../src/batch/shard.js';
import type { BatchJob } from '../src/batch/job.js';
import { newRunId } from '../src/batch/ids.js';
import type { AuditReport } from '../src/batch/audit.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { createLogger } from '../src/observability/logger.js';
import { createTestBucket, type TestBucket } from './support/s3.js';
import { BASE, MINUTE, cellsMismatch, covered, gzipped, ndjson, perMinuteDevice, readings, tableToCells, testConfig, type Reading } from './support/batch.js';
import { sha256Hex } from '../src/batch/hashes.js';

const log = createLogger({ level: 'silent' });

interface Lake {
  bucket: TestBucket;
  job: BatchJob;
  raw: ObjectStore;
  store: ObjectStore;
  errors: ObjectStore;
  rows: Reading[];
}

/** A fresh bucket with a master dataset under raw/ and a job reading it, listing 7 keys per page. */
async function lake(prefix: string, batch: Record<string, unknown> = {}): Promise<Lake> {
  const bucket = await createTestBucket(prefix);
  const config = testConfig({
    source: `s3://${bucket.name}/raw/`,
    viewStore: `s3://${bucket.name}/store/`,
    chunkSize: '64KiB',
    concurrency: 3,
    ...batch,
  });
  const job = batchJobFromConfig(config);
  job.storeOptions = { ...job.storeOptions, pageSize: 7 };
  return {
    bucket,
    job,
    raw: openStore(job.source, job.storeOptions),
    store: openStore(job.viewStore, job.storeOptions),
    errors: openStore(job.errors, job.storeOptions),
    rows: [],
  };
}

/** Writes `count` small NDJSON objects and returns their readings. */
async function putObjects(l: Lake, count: number, perObject: number, seed: number, dir = 'date=2026-01-01'): Promise<Reading[]> {
  const all: Reading[] = [];
  for (let i = 0; i < count; i++) {
    const rows = readings(seed + i, perObject);
    await l.raw.put(`${dir}/part-${String(i).padStart(4, '0')}.ndjson`, ndjson(rows));
    all.push(...rows);
  }
  return all;
}

function loadView(job: BatchJob, view: string, snapshot: Buffer): Pipeline {
  const p = Pipeline.create(job.spec);
  p.restore(view, snapshot);
  return p;
}

async function publishedCells(l: Lake) {
  const manifest = (await readManifest(l.store, 'temp_by_device_1m'))!;
  const bytes = await l.store.getBytes(manifest.snapshot);
  expect(sha256Hex(bytes)).toBe(manifest.snapshotSha256);
  const table = loadView(l.job, 'temp_by_device_1m', bytes).query('temp_by_device_1m', { from: BASE - 86_400_000, to: BASE + 86_400_000 * 400 });
  return { manifest, cells: tableToCells(table) };
}

describe('batch run against S3', () => {
  let l: Lake;
  let first: AuditReport;
  const badLines = [`{"ts":${BASE},"device":"dev-1","temp":"hot","status":"ok"}`, '{not json', `{"ts":${BASE + 5},"device":"dev-2","temp":999,"status":"ok"}`];

  beforeAll(async () => {
    l = await lake('batch-run');
    // 25 small objects (4 list pages of 7), one gzip object, one with bad records, one larger than the chunk size.
    l.rows.push(...(await putObjects(l, 25, 200, 100)));
    const gz = readings(7, 500);
    await l.raw.put('date=2026-01-02/events.ndjson.gz', gzipped(gz));
    l.rows.push(...gz);
    const good = readings(8, 50);
    const mixed = [...good.slice(0, 20).map((r) => JSON.stringify(r)), ...badLines, ...good.slice(20).map((r) => JSON.stringify(r))];
    await l.raw.put('date=2026-01-02/mixed.ndjson', Buffer.from(mixed.join('\n') + '\n'));
    l.rows.push(...good, { ts: BASE + 5, device: 'dev-2', temp: 999, status: 'ok' });
    const big = readings(9, 12_000);
    const bigBytes = ndjson(big);
    expect(bigBytes.length).toBeGreaterThan(10 * 64 * 1024);
    await l.raw.put('date=2026-01-03/big.ndjson', bigBytes);
    l.rows.push(...big);
    // metadata, never input
    await l.raw.put('_progress/README.txt', Buffer.from('not an input'));
  });
  afterAll(async () => {
    await l?.bucket.remove();
  });

  it('publishes every view with a manifest, snapshot, rejects, audit report and event log', async () => {
    const result = await runBatch(l.job, { log });
    expect(result.message).toBeUndefined();
    expect(result.exitCode).toBe(0);
    first = result.audit!;
    expect(first.totals.objects).toBe(28);
    expect(first.totals.objectsDone).toBe(28);
    expect(first.totals.parseRejects).toBe(2);
    expect(first.totals.ruleRejects).toBe(1);
    expect(first.rejectsByRule).toEqual({ temp_range: 1 });

    for (const view of ['temp_by_device_1m', 'activity_5m', 'device_sessions']) {
      const m = (await readManifest(l.store, view))!;
      expect(m.version).toBe(result.runId);
      expect(m.coverageEnd).toBeLessThanOrEqual(Date.now());
      expect(m.coverageEnd % m.alignmentMs).toBe(0);
      expect(m.inputs.map((i) => i.key)).toEqual(first.inputs.map((i) => i.key));
      expect(m.inputs.every((i) => i.etag.length > 0 && i.size > 0)).toBe(true);
      expect(m.counts.records).toBe(l.rows.length + 2);
      expect(m.counts.rejected).toBe(3);
      expect(m.failedInputs).toEqual([]);
    }

    const { cells } = await publishedCells(l);
    expect(cellsMismatch(cells, perMinuteDevice(covered(l.rows, Date.now())))).toBeUndefined();

    const rejects = (await l.errors.getBytes(rejectKey(result.runId, 'date=2026-01-02/mixed.ndjson'))).toString().trim().split('\n').map((s) => JSON.parse(s));
    expect(rejects.map((r) => [r.line, r.kind, r.ruleIds])).toEqual([
      [21, 'type_mismatch', []],
      [22, 'malformed_json', []],
      [23, 'rule_failed', ['temp_range']],
    ]);
    expect(rejects.every((r) => r.object === 'date=2026-01-02/mixed.ndjson' && r.reason.length > 0 && typeof r.byteOffset === 'number')).toBe(true);
    expect(rejects[1].raw).toBe('{not json');
    expect(rejects[2].reason).toBe('temp_range: temp must be >= -50 and <= 150');

    const events = (await l.store.getBytes(eventsKey(result.runId))).toString().trim().split('\n').map((s) => JSON.parse(s).type);
    expect(events[0]).toBe('run.start');
    expect(events.filter((t) => t === 'object.done')).toHaveLength(28);
    expect(events.filter((t) => t === 'view.published')).toHaveLength(3);
    expect(events.at(-1)).toBe('run.end');
    const audit = JSON.parse((await l.store.getBytes(auditKey(result.runId))).toString()) as AuditReport;
    expect(audit.status).toBe('success');
    expect(audit.inputs.find((i) => i.key === 'date=2026-01-02/mixed.ndjson')?.rejectsKey).toBe(rejectKey(result.runId, 'date=2026-01-02/mixed.ndjson'));
    expect(await l.store.list('locks/')[Symbol.asyncIterator]().next()).toMatchObject({ done: true });
  });

  it('re-runs over the same inputs publish byte-identical snapshots, whatever the concurrency', async () => {
    const again = await runBatch({ ...l.job, concurrency: 1 }, { log });
    expect(again.exitCode).toBe(0);
    expect(again.runId).not.toBe(first.runId);
    const byView = (a: AuditReport) => Object.fromEntries(a.published.map((p) => [p.view, p.snapshotSha256]));
    expect(byView(again.audit!)).toEqual(byView(first));
    // the previous version is kept
    const old = first.published.find((p) => p.view === 'temp_by_device_1m')!;
    expect(sha256Hex(await l.store.getBytes(old.snapshot))).toBe(old.snapshotSha256);
  });

  it('refuses a second run while one holds the lock, with exit code 2', async () => {
    let second: Promise<Awaited<ReturnType<typeof runBatch>>> | undefined;
    const firstRun = runBatch(l.job, {
      log,
      progress: {
        start: () => {},
        bytes: () => {},
        records: () => {},
        rejects: () => {},
        stop: () => {},
        objectDone: () => {
          second ??= runBatch(l.job, { log });
        },
      },
    });
    const [a, b] = [await firstRun, await second!];
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(2);
    expect(b.message).toMatch(new RegExp(`another batch run holds the lock: run ${a.runId}`));
  });

  it('splits into shards that merge into the same states', async () => {
    const runId = newRunId();
    const shards = await Promise.all([0, 1, 2].map((index) => runShard(l.job, { log, runId, shard: { index, count: 3 } })));
    expect(shards.map((s) => s.exitCode)).toEqual([0, 0, 0]);
    expect(shards.reduce((n, s) => n + s.audit!.totals.objects, 0)).toBe(28);
    const merged = await mergeShards(l.job, { log, runId });
    expect(merged.exitCode).toBe(0);
    const { manifest, cells } = await publishedCells(l);
    expect(manifest.runId).toBe(runId);
    expect(manifest.inputs).toHaveLength(28);
    expect(cellsMismatch(cells, perMinuteDevice(covered(l.rows, Date.now())))).toBeUndefined();
  });

  it('keeps only the newest versions when asked, never the published one', async () => {
    const before = await listVersions(l.store, 'temp_by_device_1m');
    expect(before.length).toBeGreaterThanOrEqual(3);
    const result = await runBatch(l.job, { log, keepVersions: 2 });
    expect(result.exitCode).toBe(0);
    for (const view of ['temp_by_device_1m', 'activity_5m', 'device_sessions']) {
      const versions = await listVersions(l.store, view);
      expect(versions).toEqual([before.at(-1), result.runId]);
      expect((await readManifest(l.store, view))!.version).toBe(result.runId);
    }
    await expect(l.store.head(first.published[0]!.snapshot)).rejects.toThrow(/no object/);
  });

  it('refuses to merge a run whose shards have not all finished', async () => {
    const runId = newRunId();
    expect((await runShard(l.job, { log, runId, shard: { index: 0, count: 2 } })).exitCode).toBe(0);
    const merged = await mergeShards(l.job, { log, runId });
    expect(merged.exitCode).toBe(2);
    expect(merged.message).toMatch(/shard\(s\) 1\/2 have not finished/);
  });
});

describe('batch run edge cases against S3', () => {
  it('exits 1 when an object cannot be read, publishing the rest and naming what is missing', async () => {
    const l = await lake('batch-partial');
    try {
      const rows = await putObjects(l, 3, 100, 300);
      const corrupt = gzipped(readings(5, 300));
      corrupt.fill(0x41, 30, 400);
      await l.raw.put('date=2026-01-01/corrupt.ndjson.gz', corrupt);
      const result = await runBatch(l.job, { log });
      expect(result.exitCode).toBe(1);
      expect(result.status).toBe('partial');
      expect(result.message).toMatch(/1 of 4 input objects could not be read: date=2026-01-01\/corrupt.ndjson.gz/);
      const m = (await readManifest(l.store, 'temp_by_device_1m'))!;
      expect(m.failedInputs.map((i) => i.key)).toEqual(['date=2026-01-01/corrupt.ndjson.gz']);
      expect(m.inputs).toHaveLength(3);
      const { cells } = await publishedCells(l);
      expect(cellsMismatch(cells, perMinuteDevice(covered(rows, Date.now())))).toBeUndefined();
      expect(result.audit!.inputs.find((i) => i.status === 'failed')?.error).toMatch(/gzip/);
    } finally {
      await l.bucket.remove();
    }
  });

  it('counts an object that vanished between listing and reading as failed to read, not retried', async () => {
    const l = await lake('batch-vanished');
    try {
      // A large object sorts first and is read first (concurrency 1), so the delete issued at start is long done when part-0001 is read.
      const first = readings(900, 20_000);
      await l.raw.put('date=2026-01-01/a-large.ndjson', ndjson(first));
      const rest = await putObjects(l, 3, 100, 901);
      const rows = [...first, ...rest];
      const noop = () => {};
      const result = await runBatch({ ...l.job, concurrency: 1 }, {
        log,
        progress: {
          // called once the inputs are listed, before any is read
          start: () => void l.raw.delete('date=2026-01-01/part-0001.ndjson'),
          bytes: noop,
          records: noop,
          rejects: noop,
          objectDone: noop,
          stop: noop,
        },
      });
      expect(result.exitCode).toBe(1);
      const failed = result.audit!.inputs.filter((i) => i.status === 'failed');
      expect(failed.map((i) => [i.key, i.attempts])).toEqual([['date=2026-01-01/part-0001.ndjson', 1]]);
      expect(failed[0]!.error).toMatch(/no object/);
      const { manifest, cells } = await publishedCells(l);
      expect(manifest.failedInputs.map((i) => i.key)).toEqual(['date=2026-01-01/part-0001.ndjson']);
      const kept = [...first, ...rest.slice(0, 100), ...rest.slice(200)];
      expect(rows.length).toBe(20_300);
      expect(cellsMismatch(cells, perMinuteDevice(covered(kept, Date.now())))).toBeUndefined();
    } finally {
      await l.bucket.remove();
    }
  });

  it('fails with exit 2 and publishes nothing when there is no input', async () => {
    const l = await lake('batch-empty');
    try {
      const result = await runBatch(l.job, { log });
      expect(result.exitCode).toBe(2);
      expect(result.message).toMatch(/no input objects/);
      expect(await readManifest(l.store, 'temp_by_device_1m')).toBeUndefined();
    } finally {
      await l.bucket.remove();
    }
  });

  it("holds the coverage end back to the archive's watermark minus the allowed lateness", async () => {
    const l = await lake('batch-coverage');
    try {
      const rows = await putObjects(l, 2, 400, 500);
      const watermark = BASE + 20 * MINUTE + 30_000;
      await l.raw.put('_progress/topic=events/partition=0.json', Buffer.from(JSON.stringify({ offset: 800, watermark, updatedAt: new Date().toISOString() })));
      const job = { ...l.job, allowedLatenessMs: 5 * MINUTE };
      const result = await runBatch(job, { log });
      expect(result.exitCode).toBe(0);
      const end = BASE + 15 * MINUTE;
      for (const p of result.audit!.published) expect(p.coverageEnd).toBe(end);
      const { manifest, cells } = await publishedCells({ ...l, job });
      expect(manifest.coverageEnd).toBe(end);
      expect(cellsMismatch(cells, perMinuteDevice(covered(rows, end)))).toBeUndefined();
      const beyond = rows.filter((r) => r.ts >= end).length;
      expect(manifest.counts.beyondCoverage).toBe(beyond);
    } finally {
      await l.bucket.remove();
    }
  });

  it('reads only the partitions asked for', async () => {
    const l = await lake('batch-partitions');
    try {
      const day1 = await putObjects(l, 2, 100, 600, 'date=2026-01-01/hour=00');
      await putObjects(l, 2, 100, 700, 'date=2026-01-02/hour=00');
      const result = await runBatch(l.job, { log, partitions: { from: '2026-01-01', to: '2026-01-01' } });
      expect(result.exitCode).toBe(0);
      const { manifest, cells } = await publishedCells(l);
      expect(manifest.partitions).toEqual({ from: '2026-01-01', to: '2026-01-01' });
      expect(manifest.inputs.map((i) => i.key)).toEqual(['date=2026-01-01/hour=00/part-0000.ndjson', 'date=2026-01-01/hour=00/part-0001.ndjson']);
      expect(cellsMismatch(cells, perMinuteDevice(covered(day1, Date.now())))).toBeUndefined();
    } finally {
      await l.bucket.remove();
    }
  });

  it('takes over a lock its holder left behind once it has expired', async () => {
    const l = await lake('batch-stale-lock');
    try {
      await putObjects(l, 1, 50, 800);
      const stale = { runId: '20260101T000000Z-deadbeef', host: 'gone', pid: 1, startedAt: new Date(Date.now() - 7_200_000).toISOString(), expiresAt: new Date(Date.now() - 1000).toISOString() };
      await l.store.put(LOCK_KEY, Buffer.from(JSON.stringify(stale)));
      const result = await runBatch(l.job, { log });
      expect(result.exitCode).toBe(0);
      expect(await l.store.list(manifestKey('temp_by_device_1m'))[Symbol.asyncIterator]().next()).toMatchObject({ done: false });
    } finally {
      await l.bucket.remove();
    }
  });
});

describe('batch run over a local folder', () => {
  it('reads CSV objects, gzip recognised by its magic bytes, and publishes the same states', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-batch-fs-'));
    try {
      const job = batchJobFromConfig(testConfig({ source: join(dir, 'raw'), viewStore: `file://${join(dir, 'store')}`, format: 'csv', chunkSize: '4KiB', concurrency: 2 }));
      const raw = openStore(job.source);
      const csv = (rows: Reading[]) => Buffer.from(['ts,device,temp,status', ...rows.map((r) => `${r.ts},${r.device},${r.temp},${r.status}`)].join('\n') + '\n');
      const a = readings(41, 800);
      const b = readings(42, 800);
      await raw.put('date=2026-01-01/a.csv', csv(a));
      await raw.put('date=2026-01-01/b.csv', gzipSync(csv(b)));
      const result = await runBatch(job, { log });
      expect(result.message).toBeUndefined();
      expect(result.exitCode).toBe(0);
      expect(result.audit!.totals.records).toBe(1600);
      const store = openStore(job.viewStore);
      const m = (await readManifest(store, 'temp_by_device_1m'))!;
      const view = loadView(job, 'temp_by_device_1m', await store.getBytes(m.snapshot));
      const cells = tableToCells(view.query('temp_by_device_1m', { from: BASE - 86_400_000, to: BASE + 86_400_000 }));
      expect(cellsMismatch(cells, perMinuteDevice(covered([...a, ...b], Date.now())))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
