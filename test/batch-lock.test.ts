/**
 * The batch run lock on both storage backends (a local folder and the real
 * S3 server): exclusive, naming its holder, renewed, taken over only once it
 * expired, and by exactly one of several racing runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_KEY, LockHeldError, LockLostError, RunLock, type LockRecord } from '../src/batch/lock.js';
import { newRunId } from '../src/batch/ids.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { createTestBucket, type TestBucket } from './support/s3.js';

const backends: { name: string; open: () => Promise<{ store: ObjectStore; close: () => Promise<void> }> }[] = [
  {
    name: 'filesystem',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pulse-lock-'));
      return { store: openStore(dir), close: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3',
    open: async () => {
      const bucket: TestBucket = await createTestBucket('batch-lock');
      return { store: openStore(`s3://${bucket.name}/store`), close: () => bucket.remove() };
    },
  },
];

async function readLock(store: ObjectStore): Promise<LockRecord> {
  return JSON.parse((await store.getBytes(LOCK_KEY)).toString()) as LockRecord;
}

function staleLock(runId: string): Buffer {
  const past = Date.now() - 60_000;
  return Buffer.from(JSON.stringify({ runId, host: 'gone', pid: 1, startedAt: new Date(past - 3_600_000).toISOString(), expiresAt: new Date(past).toISOString() }));
}

describe.each(backends)('run lock on $name', ({ open }) => {
  let store: ObjectStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await open());
  });
  afterAll(async () => {
    await close();
  });

  it('is exclusive and names its holder', async () => {
    const a = await RunLock.acquire(store, newRunId(), { ttlMs: 60_000 });
    const err = await RunLock.acquire(store, newRunId(), { ttlMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockHeldError);
    expect((err as LockHeldError).holder?.runId).toBe(a.runId);
    expect((err as Error).message).toContain(`run ${a.runId}`);
    await a.release();
    const b = await RunLock.acquire(store, newRunId(), { ttlMs: 60_000 });
    await b.release();
    await expect(store.head(LOCK_KEY)).rejects.toThrow(/no object/);
  });

  it('lets exactly one of several racing runs win', async () => {
    const tries = await Promise.allSettled(Array.from({ length: 6 }, () => RunLock.acquire(store, newRunId(), { ttlMs: 60_000 })));
    const won = tries.filter((t) => t.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(tries.filter((t) => t.status === 'rejected').every((t) => (t as PromiseRejectedResult).reason instanceof LockHeldError)).toBe(true);
    await (won[0] as PromiseFulfilledResult<RunLock>).value.release();
  });

  it('is renewed while the run holds it', async () => {
    const lock = await RunLock.acquire(store, newRunId(), { ttlMs: 60_000, refreshMs: 1_000_000 });
    const before = Date.parse((await readLock(store)).expiresAt);
    await new Promise((r) => setTimeout(r, 20));
    await lock.refresh();
    const after = await readLock(store);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(before);
    expect(after.runId).toBe(lock.runId);
    await lock.release();
  });

  it('is taken over after expiry by exactly one of several runs', async () => {
    const dead = newRunId();
    await store.put(LOCK_KEY, staleLock(dead));
    const tries = await Promise.allSettled(Array.from({ length: 5 }, () => RunLock.acquire(store, newRunId(), { ttlMs: 60_000 })));
    const won = tries.filter((t) => t.status === 'fulfilled') as PromiseFulfilledResult<RunLock>[];
    expect(won).toHaveLength(1);
    expect((await readLock(store)).runId).toBe(won[0]!.value.runId);
    await won[0]!.value.release();
  });

  it('tells its holder when another run has taken it over, so it does not publish', async () => {
    const lock = await RunLock.acquire(store, newRunId(), { ttlMs: 60_000 });
    await lock.verify();
    const other = newRunId();
    await store.put(LOCK_KEY, Buffer.from(JSON.stringify({ runId: other, host: 'h', pid: 2, startedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() })));
    await expect(lock.verify()).rejects.toBeInstanceOf(LockLostError);
    await lock.release();
    expect((await readLock(store)).runId).toBe(other);
    await store.delete(LOCK_KEY);
  });

  it('treats an unreadable lock as stale once, then takes it over', async () => {
    await store.put(LOCK_KEY, Buffer.from('garbage'));
    const lock = await RunLock.acquire(store, newRunId(), { ttlMs: 60_000 });
    expect((await readLock(store)).runId).toBe(lock.runId);
    await lock.release();
  });
});
