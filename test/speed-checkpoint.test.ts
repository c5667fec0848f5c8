/**
 * The checkpoint protocol against both store backends: commit records,
 * snapshot retention, recovery from a half-written checkpoint, waiting out
 * another writer's lease, refusing to commit when fenced, and the
 * archiver's progress file as its commit record.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointPlan } from '../src/speed/checkpoint.js';
import { CheckpointAbortedError, Checkpointer, snapshotKey } from '../src/speed/checkpoint.js';
import type { SpeedStore } from '../src/speed/ports.js';
import { readJson, silentLogger, writeJson } from '../src/speed/ports.js';
import { FencedError } from '../src/speed/source.js';
import { openStore } from '../src/storage/index.js';
import { createTestBucket, type TestBucket } from './support/s3.js';

async function keys(store: SpeedStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of store.list(prefix)) out.push(key);
  return out.sort();
}

function plan(seq: number, offset: number, extra: Partial<CheckpointPlan> = {}): CheckpointPlan {
  return {
    topic: 'events',
    partition: 2,
    seq,
    offset,
    watermark: 1_767_225_600_000 + seq,
    batchCoverage: {},
    snapshots: new Map([
      ['a', Buffer.from(`a${seq}`)],
      ['b', Buffer.from(`b${seq}`)],
    ]),
    archive: { key: `source=kafka/topic=events/date=2026-01-01/hour=00/2-${offset - 10}-${offset - 1}.ndjson`, body: Buffer.from(`{"seq":${seq}}\n`) },
    leftovers: [],
    ...extra,
  };
}

const pass = async (): Promise<void> => {};

const backends: { name: string; open: () => Promise<{ views: SpeedStore; archive: SpeedStore; close: () => Promise<void> }> }[] = [
  {
    name: 'directory',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pulse-checkpoint-'));
      return { views: openStore(join(dir, 'store')), archive: openStore(join(dir, 'raw')), close: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'S3',
    open: async () => {
      const bucket: TestBucket = await createTestBucket('speed-checkpoint');
      return { views: openStore(`s3://${bucket.name}/store`), archive: openStore(`s3://${bucket.name}/raw`), close: () => bucket.remove() };
    },
  },
];

for (const backend of backends) {
  describe(`checkpoint protocol on the ${backend.name} store`, () => {
    let views: SpeedStore;
    let archive: SpeedStore;
    let close: () => Promise<void>;
    const writer = (owner = 'w1', leaseMs = 2_000, mode: 'speed' | 'archive' = 'speed') =>
      new Checkpointer({ mode, stores: { views, archive }, owner, leaseMs, logger: silentLogger });

    beforeAll(async () => {
      ({ views, archive, close } = await backend.open());
    });

    afterAll(async () => {
      await close();
    });

    it('commits each sequence, keeps the previous snapshots and retires older ones', async () => {
      const w = writer();
      for (let seq = 0; seq < 4; seq++) {
        const c = await w.write(plan(seq, 10 * (seq + 1)), pass);
        await w.retire(c);
      }
      const current = await w.current('events', 2);
      expect(current).toMatchObject({ seq: 3, offset: '40', watermark: 1_767_225_600_003, views: { a: snapshotKey('a', 'events', 2, 3) } });
      expect(await keys(views, 'views/a/')).toEqual([snapshotKey('a', 'events', 2, 2), snapshotKey('a', 'events', 2, 3)]);
      expect((await views.getBytes(current!.views.b!)).toString()).toBe('b3');
      expect(await keys(archive, 'source=')).toHaveLength(4);
      expect(await w.recover('events', 2)).toEqual(current);
    });

    it('undoes a checkpoint that crashed before its commit record', async () => {
      const w = writer('w1', 200);
      // Seq 4 got as far as its intent and objects: the process died before checkpoint.json.
      const crashed = plan(4, 50);
      await expect(w.write(crashed, async () => Promise.reject(new Error('killed')))).rejects.toBeInstanceOf(CheckpointAbortedError);
      expect(await keys(archive, 'source=')).toContain(crashed.archive!.key);
      await new Promise((r) => setTimeout(r, 250));
      const restored = await writer('w2', 200).recover('events', 2);
      expect(restored?.seq).toBe(3);
      expect(await keys(archive, 'source=')).not.toContain(crashed.archive!.key);
      expect(await keys(views, 'views/a/')).toEqual([snapshotKey('a', 'events', 2, 2), snapshotKey('a', 'events', 2, 3)]);
    });

    it("waits for another worker's fresh intent to commit before restoring", async () => {
      const other = writer('w-other', 10_000);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const committing = other.write(plan(4, 50), () => gate);
      // The other worker is between its objects and its commit record.
      await new Promise((r) => setTimeout(r, 300));
      const restoring = writer('w-new', 10_000).recover('events', 2);
      setTimeout(release, 400);
      const [restored, committed] = await Promise.all([restoring, committing]);
      expect(committed.seq).toBe(4);
      expect(restored?.seq).toBe(4);
      expect(await keys(archive, 'source=')).toContain(plan(4, 50).archive!.key);
    });

    it('does not commit when the fence refuses, and lists what the attempt left behind', async () => {
      const w = writer();
      const err = await w.write(plan(5, 60), async () => Promise.reject(new FencedError('generation over'))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CheckpointAbortedError);
      expect((err as Error).cause).toBeInstanceOf(FencedError);
      expect((err as CheckpointAbortedError).written.map((r) => r.key).sort()).toEqual(
        [plan(5, 60).archive!.key, snapshotKey('a', 'events', 2, 5), snapshotKey('b', 'events', 2, 5)].sort(),
      );
      expect((await w.current('events', 2))?.seq).toBe(4);
      // The next attempt deletes the leftovers it does not rewrite.
      const retry = plan(5, 70, { leftovers: (err as CheckpointAbortedError).written });
      const c = await w.write(retry, pass);
      expect(c.seq).toBe(5);
      const archived = await keys(archive, 'source=');
      expect(archived).toContain(retry.archive!.key);
      expect(archived).not.toContain(plan(5, 60).archive!.key);
    });

    it('uses the progress file as the commit record of the archiver alone', async () => {
      const w = writer('a1', 2_000, 'archive');
      const c = await w.write({ ...plan(0, 100), topic: 'raw-only', snapshots: new Map() }, pass);
      expect(await readJson(archive, '_progress/topic=raw-only/partition=2.json')).toMatchObject({ offset: '100', seq: 0, watermark: c.watermark, archive: c.archive });
      expect(await w.recover('raw-only', 2)).toMatchObject({ seq: 0, offset: '100', views: {} });
      await writeJson(archive, '_progress/topic=raw-only/partition=2.intent.json', { topic: 'raw-only', partition: 2, seq: 1, offset: '120', owner: 'gone', createdAt: new Date(0).toISOString(), objects: [{ store: 'archive', key: 'source=kafka/topic=raw-only/x.ndjson' }] });
      await archive.put('source=kafka/topic=raw-only/x.ndjson', Buffer.from('{}\n'));
      expect((await w.recover('raw-only', 2))?.seq).toBe(0);
      const left = await keys(archive, 'source=kafka/');
      expect(left).not.toContain('source=kafka/topic=raw-only/x.ndjson');
      expect(left).toContain(c.archive);
    });
  });
}
