/**
 * The batch layer's pure parts: coverage alignment, input selection, reject
 * file names, stream decoding and chunking, the ordered fold, run ids.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignDown, alignmentOf, coverageEnd, coverageLimit } from '../src/batch/alignment.js';
import { DecodeError, decodedBytes, looksGzipped, rechunk } from '../src/batch/decode.js';
import { OrderedFold } from '../src/batch/fold.js';
import { compactUtc, isRunId, newRunId } from '../src/batch/ids.js';
import { inPartitionRange, isMetadataKey, parseShard, partitionOf, partitionProblem, shardOf } from '../src/batch/inputs.js';
import { decodeObjectKey, encodeObjectKey, rejectKey } from '../src/batch/rejects.js';


async function collect(it: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('coverage end', () => {
  it('aligns views to their panes: tumbling size, hopping gcd, session grid', () => {
    expect(alignmentOf({ type: 'tumbling', sizeMs: 60_000 })).toBe(60_000);
    expect(alignmentOf({ type: 'hopping', sizeMs: 300_000, slideMs: 120_000 })).toBe(60_000);
    expect(alignmentOf({ type: 'session', gapMs: 120_000 })).toBe(60_000);
    expect(alignmentOf({ type: 'session', gapMs: 120_000, alignMs: 3_600_000 })).toBe(3_600_000);
    const t = Date.UTC(2026, 0, 1, 2, 3, 4, 5);
    expect(coverageEnd(t, { type: 'tumbling', sizeMs: 3_600_000 })).toBe(Date.UTC(2026, 0, 1, 2));
  });

  it('alignDown gives the largest multiple at or below t, negative times included', () => {
    fc.assert(
      fc.property(fc.integer({ min: -4e12, max: 4e12 }), fc.integer({ min: 1, max: 86_400_000 }), (t, a) => {
        const d = alignDown(t, a);
        expect(d % a === 0 || Object.is(d % a, -0)).toBe(true);
        expect(d).toBeLessThanOrEqual(t);
        expect(t - d).toBeLessThan(a);
      }),
    );
  });

  it('is held back by the archive watermark minus the allowed lateness, never past the run start', () => {
    const start = Date.UTC(2026, 0, 2);
    expect(coverageLimit(start, [], 60_000)).toBe(start);
    const progress = [
      { key: '_progress/topic=e/partition=0.json', watermark: start - 3_600_000 },
      { key: '_progress/topic=e/partition=1.json', watermark: start - 600_000 },
      { key: '_progress/topic=e/partition=2.json', watermark: null },
    ];
    expect(coverageLimit(start, progress, 60_000)).toBe(start - 3_600_000 - 60_000);
    expect(coverageLimit(start, [{ key: 'p', watermark: start + 9e6 }], 0)).toBe(start);
  });
});

describe('input selection', () => {
  it('treats keys with a segment starting with _ as metadata', () => {
    expect(isMetadataKey('_progress/topic=e/partition=0.json')).toBe(true);
    expect(isMetadataKey('source=kafka/_tmp/x.ndjson')).toBe(true);
    expect(isMetadataKey('source=kafka/topic=e/date=2026-01-01/hour=00/0-0-9.ndjson')).toBe(false);
  });

  it('reads date and hour partitions from the archive layout', () => {
    expect(partitionOf('source=kafka/topic=e/date=2026-01-01/hour=05/0-0-9.ndjson')).toBe('2026-01-01T05');
    expect(partitionOf('date=2026-01-01/a.csv')).toBe('2026-01-01');
    expect(partitionOf('plain/a.csv')).toBeUndefined();
    expect(partitionProblem('2026-01-01')).toBeUndefined();
    expect(partitionProblem('2026-01-01T05')).toBeUndefined();
    expect(partitionProblem('yesterday')).toMatch(/YYYY-MM-DD/);
  });

  it('compares partitions at the coarser precision, bounds inclusive', () => {
    expect(inPartitionRange('2026-01-02T05', { from: '2026-01-02', to: '2026-01-02' })).toBe(true);
    expect(inPartitionRange('2026-01-02T05', { from: '2026-01-02T06' })).toBe(false);
    expect(inPartitionRange('2026-01-02', { from: '2026-01-02T06' })).toBe(true);
    expect(inPartitionRange('2026-01-03T00', { to: '2026-01-02' })).toBe(false);
    expect(inPartitionRange('2026-01-01T23', { from: '2026-01-02' })).toBe(false);
  });

  it('splits inputs into shards that cover every object exactly once', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (items, n) => {
        const seen = Array.from({ length: n }, (_, i) => shardOf(items, i, n)).flat();
        expect(seen.map((s) => s.position).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
        for (const s of seen) expect(s.item).toBe(items[s.position]);
      }),
    );
  });

  it('parses --shard i/n and refuses the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['4/4', '-1/2', '1', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow(/invalid shard/);
  });
});

describe('reject files', () => {
  it('name each object with a flat, reversible key under the run', () => {
    expect(rejectKey('20260101T020000Z-0a1b2c3d', 'source=kafka/topic=e/a%b.ndjson')).toBe(
      'run=20260101T020000Z-0a1b2c3d/source=kafka%2Ftopic=e%2Fa%25b.ndjson.ndjson',
    );
    fc.assert(
      fc.property(fc.string(), (key) => {
        const name = encodeObjectKey(key);
        expect(name).not.toContain('/');
        expect(decodeObjectKey(name)).toBe(key);
      }),
    );
  });
});

describe('object decoding', () => {
  const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n');

  it('gunzips by extension or by magic bytes', async () => {
    const gz = gzipSync(text);
    expect(looksGzipped('a.ndjson.gz', undefined)).toBe(true);
    expect(looksGzipped('a.ndjson', gz.subarray(0, 2))).toBe(true);
    expect(looksGzipped('a.ndjson', text.subarray(0, 2))).toBe(false);
    for (const key of ['a.ndjson.gz', 'a.ndjson']) {
      let raw = 0;
      const out = Buffer.concat(await collect(decodedBytes(key, Readable.from([gz.subarray(0, 100), gz.subarray(100)]), (n) => (raw += n))));
      expect(out.equals(text)).toBe(true);
      expect(raw).toBe(gz.length);
    }
    const plain = Buffer.concat(await collect(decodedBytes('a.ndjson', Readable.from([text]))));
    expect(plain.equals(text)).toBe(true);
  });

  it('reports corrupt gzip as a DecodeError', async () => {
    const gz = gzipSync(text);
    gz.fill(0x41, 20, 200);
    await expect(collect(decodedBytes('bad.ndjson.gz', Readable.from([gz])))).rejects.toBeInstanceOf(DecodeError);
  });

  it('rechunks any split into chunks of at least chunkSize that concatenate to the input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }), fc.integer({ min: 1, max: 500 }), async (parts, size) => {
        const chunks = await collect(rechunk(Readable.from(parts.map((p) => Buffer.from(p))), size));
        expect(Buffer.concat(chunks).equals(Buffer.concat(parts.map((p) => Buffer.from(p))))).toBe(true);
        chunks.slice(0, -1).forEach((c) => expect(c.length).toBeGreaterThanOrEqual(size));
        chunks.forEach((c) => expect(c.length).toBeGreaterThan(0));
      }),
    );
  });
});

describe('ordered fold', () => {
  /** A sequence that records the order it absorbed parts in. */
  class Sequence {
    constructor(readonly items: number[] = []) {}
    merge(other: Sequence): void {
      this.items.push(...other.items);
    }
  }

  it('folds parts in position order whatever order they finish in', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([...Array(30).keys()], { minLength: 30, maxLength: 30 }), fc.integer({ min: 0, max: 29 }), (order, failed) => {
        const fold = new OrderedFold(new Sequence(), 1000);
        for (const p of order) fold.add(p, p === failed ? undefined : new Sequence([p]));
        expect(fold.into.items).toEqual([...Array(30).keys()].filter((p) => p !== failed));
        expect(fold.folded).toBe(30);
      }),
    );
  });

  it('holds a worker back while it would run more than the window ahead', async () => {
    const fold = new OrderedFold(new Sequence(), 2);
    await fold.room(1);
    let started = false;
    const waiting = fold.room(2).then(() => (started = true));
    await Promise.resolve();
    expect(started).toBe(false);
    fold.add(1, new Sequence([1]));
    await Promise.resolve();
    expect(started).toBe(false);
    fold.add(0, new Sequence([0]));
    await waiting;
    expect(started).toBe(true);
    expect(fold.into.items).toEqual([0, 1]);
  });
});

describe('run ids', () => {
  it('are unique, sortable by start time and checkable', () => {
    const a = newRunId(Date.UTC(2026, 0, 1, 2, 0, 0));
    const b = newRunId(Date.UTC(2026, 0, 1, 2, 0, 1));
    expect(a.startsWith(compactUtc(Date.UTC(2026, 0, 1, 2)))).toBe(true);
    expect(a < b).toBe(true);
    expect(isRunId(a)).toBe(true);
    expect(a).toMatch(/^20260101T020000\.000Z-[0-9a-f]{8}$/);
    expect(isRunId('20260101T020000Z-0a1b2c3d')).toBe(true);
    expect(newRunId(Date.UTC(2026, 0, 1, 2, 0, 0, 1)) > newRunId(Date.UTC(2026, 0, 1, 2, 0, 0, 0))).toBe(true);
    expect(isRunId('../../etc')).toBe(false);
    expect(new Set(Array.from({ length: 200 }, () => newRunId(0))).size).toBe(200);
  });
});
