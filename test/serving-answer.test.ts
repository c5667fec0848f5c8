import { Bool, Float64, Int64, Table, TimestampMillisecond, Utf8, tableFromIPC, vectorFromArray } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completeFlags, rowsArrow, rowsJson } from '../src/serving/answer.js';
import { isoTime } from '../src/serving/time.js';

const MIN_MS = -62_167_219_200_000; // 0000-01-01
const MAX_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

const row = fc.record({
  start: fc.integer({ min: MIN_MS, max: MAX_MS - 60_000 }),
  device: fc.option(fc.string({ maxLength: 12 }), { freq: 5 }),
  count: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { freq: 5 }),
  mean: fc.option(fc.double(), { freq: 5 }),
  flag: fc.option(fc.boolean(), { freq: 5 }),
});

function table(rows: { start: number; device: string | null; count: bigint | null; mean: number | null; flag: boolean | null }[]): Table {
  return new Table({
    window_start: vectorFromArray(rows.map((r) => r.start), new TimestampMillisecond()),
    window_end: vectorFromArray(rows.map((r) => r.start + 60_000), new TimestampMillisecond()),
    device: vectorFromArray(rows.map((r) => r.device), new Utf8()),
    count: vectorFromArray(rows.map((r) => r.count), new Int64()),
    mean: vectorFromArray(rows.map((r) => r.mean), new Float64()),
    flag: vectorFromArray(rows.map((r) => r.flag), new Bool()),
  });
}

describe('answer encoding', () => {
  it('formats times exactly as Date.toISOString', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: MIN_MS, max: MAX_MS }), fc.integer({ min: -8.64e15, max: 8.64e15 })), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes rows as the JSON of their values: ISO times, safe integers as numbers, others as strings, non-finite floats as null', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 30 }), fc.option(fc.integer({ min: MIN_MS, max: MAX_MS })), (rows, completeThrough) => {
        const { json, count } = rowsJson([table(rows)], completeThrough);
        const parsed = JSON.parse(json) as Record<string, unknown>[];
        expect(count).toBe(rows.length);
        expect(parsed).toEqual(
          rows.map((r) => ({
            window_start: new Date(r.start).toISOString(),
            window_end: new Date(r.start + 60_000).toISOString(),
            device: r.device,
            count: r.count === null ? null : r.count >= BigInt(Number.MIN_SAFE_INTEGER) && r.count <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r.count) : r.count.toString(),
            // JSON has no negative zero: -0 is written 0, as JSON.stringify does.
            mean: r.mean !== null && Number.isFinite(r.mean) ? r.mean + 0 : null,
            flag: r.flag,
            complete: completeThrough !== null && r.start + 60_000 <= completeThrough,
          })),
        );
      }),
    );
  });

  it('keeps text that starts with U+FEFF (apache-arrow\'s own decoder drops it)', () => {
    const rows = ['\uFEFF', '\uFEFFdev-1', 'dev-\uFEFF'].map((device, i) => ({ start: i * 60_000, device, count: 1n, mean: 1, flag: true }));
    const t = table(rows);
    expect(t.getChild('device')!.get(1)).toBe('dev-1');
    const parsed = JSON.parse(rowsJson([t], null).json) as { device: string }[];
    expect(parsed.map((r) => r.device)).toEqual(rows.map((r) => r.device));
  });

  it('encodes the same rows as Arrow IPC, with a complete column', () => {
    const rows = [
      { start: 0, device: 'a', count: 1n, mean: 1.5, flag: true },
      { start: 60_000, device: null, count: null, mean: null, flag: null },
    ];
    const t = table(rows);
    const back = tableFromIPC(rowsArrow([t, t], 60_000));
    expect(back.numRows).toBe(4);
    expect(back.schema.fields.map((f) => f.name)).toEqual(['window_start', 'window_end', 'device', 'count', 'mean', 'flag', 'complete']);
    expect(back.getChild('complete')?.toArray()).toEqual([true, false, true, false]);
    expect(completeFlags(t, null)).toEqual([false, false]);
  });
});
