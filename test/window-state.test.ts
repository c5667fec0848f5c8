/**
 * The TypeScript ViewState over the native binding: merge, slice/evict at a
 * boundary, snapshots, lateness, masks, derived columns, async calls, and
 * the errors bad input gets.
 */
import { describe, expect, it } from 'vitest';
import { ViewState, viewInputTable, type SchemaSpec, type ViewSpec } from '../src/core/window.js';
import { ReferenceView, type Row } from './reference/aggregate.js';

const schema: SchemaSpec = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'device', type: 'string', nullable: false },
    { name: 'temp', type: 'float64' },
    { name: 'battery', type: 'int64' },
  ],
  eventTime: 'ts',
};

const view: ViewSpec = {
  name: 'temp_by_device_1m',
  window: { type: 'tumbling', sizeMs: 60_000 },
  groupBy: ['device'],
  measures: [
    { name: 'n', op: 'count' },
    { name: 'mean', op: 'avg', field: 'temp' },
    { name: 'low_battery', op: 'min', field: 'battery' },
    { name: 'p50', op: 'quantile', field: 'temp', q: 0.5 },
  ],
};

const T0 = Date.UTC(2026, 0, 1);

/** Deterministic readings: `n` events, 3 devices, 7 s apart. */
function readings(n: number, from = T0): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: from + i * 7_000,
    device: `dev-${i % 3}`,
    temp: i % 11 === 0 ? null : 20 + ((i * 37) % 100) / 10,
    battery: i % 5 === 0 ? null : 100 - (i % 60),
  }));
}

function rows(s: ViewState, q = {}): unknown[] {
  return s.query(q).toArray().map((r) => (r as { toJSON(): unknown }).toJSON());
}

describe('ViewState', () => {
  it('merging the states of two halves equals the state of all events', () => {
    const events = readings(500);
    const whole = ViewState.create(schema, view);
    whole.update(viewInputTable(schema, events));
    const a = ViewState.create(schema, view);
    const b = ViewState.create(schema, view);
    a.update(viewInputTable(schema, events.filter((_, i) => i % 2 === 0)));
    b.update(viewInputTable(schema, events.filter((_, i) => i % 2 === 1)));
    a.merge(b);
    expect(rows(a)).toEqual(rows(whole));
    expect(a.snapshot().equals(whole.snapshot())).toBe(true);
    expect(a.watermark()).toBe(events[events.length - 1]!.ts);
  });

  it('splits at an aligned boundary into a batch side and a realtime side, exactly', () => {
    const events = readings(400);
    const all = ViewState.create(schema, view);
    all.update(viewInputTable(schema, events));
    const boundary = T0 + 17 * all.alignmentMs();
    const batch = ViewState.create(schema, view);
    const speed = ViewState.create(schema, view);
    batch.update(viewInputTable(schema, events.filter((e) => (e.ts as number) < boundary)));
    speed.update(viewInputTable(schema, events.filter((e) => (e.ts as number) >= boundary)));
    const served = batch.slice(Number.MIN_SAFE_INTEGER, boundary);
    served.merge(speed.slice(boundary, Number.MAX_SAFE_INTEGER));
    expect(rows(served)).toEqual(rows(all));
    // The speed layer drops what the batch view now covers.
    const dropped = speed.evictThrough(boundary);
    expect(dropped).toBe(0);
    expect(all.evictThrough(boundary)).toBe(17);
    expect(rows(all)).toEqual(rows(speed));
  });

  it('snapshots restore to the same answers and refuse another definition', () => {
    const s = ViewState.create(schema, view, { allowedLatenessMs: 60_000 });
    s.update(viewInputTable(schema, readings(300)));
    const bytes = s.snapshot();
    const back = ViewState.restore(schema, view, { allowedLatenessMs: 60_000 }, bytes);
    expect(rows(back)).toEqual(rows(s));
    expect(back.watermark()).toBe(s.watermark());
    expect(back.stats().appliedRows).toBe(300);
    expect(back.definitionHash()).toBe(s.definitionHash());
    const other: ViewSpec = { ...view, window: { type: 'tumbling', sizeMs: 120_000 } };
    expect(() => ViewState.restore(schema, other, {}, bytes)).toThrow(/definition hash .* the view definition or input types changed/);
    expect(() => ViewState.restore(schema, view, {}, Buffer.from('not arrow'))).toThrow(/not an Arrow IPC stream/);
  });

  it('returns late rows and does not apply them', () => {
    const s = ViewState.create(schema, view, { allowedLatenessMs: 30_000 });
    const ref = new ReferenceView(schema, view, { allowedLatenessMs: 30_000 });
    const events = readings(50);
    const shuffled = [...events.slice(20), ...events.slice(0, 20)];
    const out = s.update(viewInputTable(schema, shuffled));
    expect(out).toEqual(ref.update(shuffled));
    expect(out.lateRows.length).toBeGreaterThan(10);
    expect(s.stats().lateRows).toBe(out.lateRows.length);
  });

  it('applies only masked rows (Uint8Array or booleans)', () => {
    const events = readings(30);
    const mask = events.map((_, i) => i % 3 !== 0);
    const a = ViewState.create(schema, view);
    const b = ViewState.create(schema, view);
    expect(a.update(viewInputTable(schema, events), mask).applied).toBe(20);
    b.update(viewInputTable(schema, events), Uint8Array.from(mask, (m) => (m ? 1 : 0)));
    expect(rows(a)).toEqual(rows(b));
    expect(() => a.update(viewInputTable(schema, events), [true])).toThrow(/mask has 1 entries, the input has 30 rows/);
  });

  it('groups by derived columns appended after the schema', () => {
    const tagged: ViewSpec = { name: 'by_band', window: { type: 'tumbling', sizeMs: 3_600_000 }, groupBy: ['band'], measures: [{ op: 'count' }] };
    const s = ViewState.create(schema, tagged, { derivedColumns: ['band'] });
    const events = readings(60).map((e) => ({ ...e, band: (e.temp as number | null) === null ? null : (e.temp as number) > 25 ? 'hot' : 'mild' }));
    s.update(viewInputTable(schema, events, ['band']));
    const out = rows(s) as { band: string | null; count: bigint }[];
    expect(out.map((r) => r.band)).toEqual([null, 'hot', 'mild']);
    expect(out.reduce((acc, r) => acc + Number(r.count), 0)).toBe(60);
  });

  it('runs updates, queries and snapshots off the event loop', async () => {
    const events = readings(900);
    const parts = [0, 1, 2].map((k) => events.filter((_, i) => i % 3 === k));
    const s = ViewState.create(schema, view);
    const outs = await Promise.all(parts.map((p) => s.updateAsync(viewInputTable(schema, p))));
    expect(outs.reduce((acc, o) => acc + o.applied, 0)).toBe(900);
    const sync = ViewState.create(schema, view);
    sync.update(viewInputTable(schema, events));
    expect((await s.queryAsync()).numRows).toBe(sync.query().numRows);
    expect(rows(s)).toEqual(rows(sync));
    expect((await s.snapshotAsync()).equals(sync.snapshot())).toBe(true);
  });

  it('gives clear errors for bad definitions, input and queries', () => {
    expect(() => ViewState.create(schema, { ...view, window: { type: 'tumbling', sizeMs: 0 } })).toThrow(/window.sizeMs: must be between 1/);
    expect(() => ViewState.create(schema, { ...view, groupBy: ['nope'] })).toThrow(/groupBy\[0\]: unknown field 'nope'/);
    expect(() => ViewState.create({ ...schema, eventTime: undefined }, view)).toThrow(/eventTime is required/);
    const s = ViewState.create(schema, view);
    expect(() => s.update(Buffer.from([1, 2, 3]))).toThrow(/not an Arrow IPC stream/);
    const wrong: SchemaSpec = { fields: [{ name: 'ts', type: 'timestamp', nullable: false }, { name: 'device', type: 'int64' }], eventTime: 'ts' };
    expect(() => s.update(viewInputTable(wrong, [{ ts: T0, device: 1 }]))).toThrow(/batch has 2 columns, the input schema has 4/);
    expect(() => s.query({ groups: { temp: '1' } })).toThrow(/'temp' is not a group field/);
    expect(() => s.query({ granularityMs: 90_000 })).toThrow(/multiple of the window size/);
    expect(s.stats().appliedRows).toBe(0);
  });

  it('queries by Date ranges, filters and limits, with timestamps in ms UTC', () => {
    const s = ViewState.create(schema, view);
    s.update(viewInputTable(schema, readings(200)));
    const t = s.query({ from: new Date(T0 + 60_000), to: new Date(T0 + 180_000), groups: { device: 'dev-1' } });
    expect(t.numRows).toBe(2);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['window_start', 'window_end', 'device', 'n', 'mean', 'low_battery', 'p50']);
    expect(String(t.schema.fields[0]!.type)).toBe('Timestamp<MILLISECOND, UTC>');
    expect(t.getChild('window_start')!.get(0)).toBe(T0 + 60_000);
    expect(s.query({ limit: 4 }).numRows).toBe(4);
    const hourly = s.query({ granularityMs: 3_600_000 });
    expect(hourly.numRows).toBe(3);
    expect([...hourly.getChild('n')!].reduce((a: number, v) => a + Number(v), 0)).toBe(200);
  });
});

describe('ViewState edges', () => {
  it('treats infinite bounds as unbounded and refuses NaN', () => {
    const s = ViewState.create(schema, view);
    s.update(viewInputTable(schema, readings(100)));
    expect(s.query({ from: -Infinity, to: Infinity }).numRows).toBe(s.query().numRows);
    expect(s.slice(-Infinity, Infinity).query().numRows).toBe(s.query().numRows);
    expect(() => s.evictThrough(Number.NaN)).toThrow(/NaN/);
    expect(s.evictThrough(Infinity)).toBeGreaterThan(0);
    expect(s.query().numRows).toBe(0);
  });

  it('refuses a multi-batch input as a whole when one batch is bad', async () => {
    const { tableToIPC, Table: ArrowTable } = await import('apache-arrow');
    const nullable: SchemaSpec = { ...schema, fields: schema.fields.map((f) => ({ ...f, nullable: true })) };
    const good = viewInputTable(nullable, readings(10));
    const bad = viewInputTable(nullable, [{ ts: null, device: 'x', temp: 1, battery: 1 }]);
    const both = new ArrowTable([...good.batches, ...bad.batches]);
    expect(both.batches.length).toBe(2);
    const s = ViewState.create(schema, view);
    expect(() => s.update(tableToIPC(both, 'stream'))).toThrow(/event time 'ts' is null at row 0 .*starting at row 10/);
    expect(s.stats().appliedRows).toBe(0);
  });
});
