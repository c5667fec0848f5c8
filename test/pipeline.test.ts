/**
 * The fused pipeline (parse → rules → lateness → windows in one native call)
 * against the TypeScript references composed the same way, and the
 * invariants both layers rely on: chunking never changes a state, split
 * states merge to the whole, and every record is applied or rejected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pipeline, type PipelineSpec } from '../src/core/pipeline.js';
import type { SchemaSpec } from '../src/core/parser.js';
import type { RulesSpec } from '../src/core/rules.js';
import type { ViewSpec } from '../src/core/window.js';
import { referenceParse } from './reference/parse.js';
import { ReferenceRuleSet } from './reference/rules.js';
import { compileCondition, evalRow } from './reference/expr.js';
import { ReferenceView, type Row, type Value } from './reference/aggregate.js';

const schema: SchemaSpec = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'device', type: 'string', nullable: false },
    { name: 'temp', type: 'float64' },
    { name: 'amount', type: 'int64' },
    { name: 'status', type: 'string' },
  ],
  eventTime: 'ts',
};

const rules: RulesSpec = {
  onError: 'skip',
  checks: [
    { id: 'temp_range', field: 'temp', range: { min: -40, max: 125 } },
    { id: 'status_known', field: 'status', in: ['ok', 'warn', 'fail'] },
    { id: 'amount_not_negative', expr: 'amount is null or amount >= 0' },
    { id: 'temp_plausible', field: 'temp', range: { max: 60 }, severity: 'warn' },
  ],
  derive: [{ column: 'band', default: 'normal', cases: [{ when: 'temp > 30', set: 'hot' }, { when: 'temp < 0', set: 'cold' }] }],
};

const views: ViewSpec[] = [
  {
    name: 'device_1m',
    window: { type: 'tumbling', sizeMs: 60_000 },
    groupBy: ['device'],
    measures: [
      { name: 'n', op: 'count' },
      { name: 'total', op: 'sum', field: 'amount' },
      { name: 'lo', op: 'min', field: 'temp' },
      { name: 'hi', op: 'max', field: 'temp' },
      { name: 'mean', op: 'avg', field: 'temp' },
    ],
  },
  {
    name: 'band_5m',
    window: { type: 'hopping', sizeMs: 300_000, slideMs: 60_000 },
    groupBy: ['band'],
    measures: [{ name: 'n', op: 'count' }, { name: 'total', op: 'sum', field: 'amount' }],
    filter: "status = 'ok'",
  },
  {
    name: 'device_sessions',
    window: { type: 'session', gapMs: 90_000 },
    groupBy: ['device'],
    measures: [{ name: 'n', op: 'count' }],
  },
];

const BASE = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** A valid-looking event (rules may still reject it) or a line the parser must refuse. */
const line: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.record({
    ts: fc.integer({ min: 0, max: 2 * HOUR }).map((d) => BASE + d),
    device: fc.constantFrom('a', 'b', 'c'),
    temp: fc.option(fc.oneof(fc.integer({ min: -60, max: 140 }), fc.double({ min: -10, max: 40, noNaN: true })), { nil: null, freq: 6 }),
    amount: fc.option(fc.integer({ min: -5, max: 1000 }), { nil: null, freq: 6 }),
    status: fc.option(fc.constantFrom('ok', 'warn', 'fail', 'bogus'), { nil: null, freq: 8 }),
  }).map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: fc.constantFrom('{"ts":', 'not json', '{"ts":1767225600000,"device":7}', '[1,2]', '{"ts":"2026-01-01T00:00:00","device":"a"}') },
);

function spec(allowedLatenessMs?: number): PipelineSpec {
  return { schema, parse: { format: 'ndjson' }, rules, views, ...(allowedLatenessMs !== undefined ? { allowedLatenessMs } : {}) };
}

function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

function plain(v: unknown): Value {
  return typeof v === 'bigint' ? Number(v) : (v as Value);
}

function rows(t: ReturnType<Pipeline['query']>): Row[] {
  return t.toArray().map((r) => Object.fromEntries(Object.entries((r as { toJSON(): Record<string, unknown> }).toJSON()).map(([k, v]) => [k, plain(v)])));
}

function plainRows(rs: Row[]): Row[] {
  return rs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
}

function expectClose(got: Row[], want: Row[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    for (const [k, w] of Object.entries(want[i]!)) {
      const v = g[k];
      if (k === 'mean' && typeof w === 'number' && typeof v === 'number') expect(Math.abs(v - w)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(w)));
      else expect(v, `row ${i} ${k}`).toEqual(w);
    }
  });
}

/** Runs the composed TypeScript references over the same bytes. */
function reference(bytes: Buffer, allowedLatenessMs?: number) {
  const parsed = referenceParse(schema, { format: 'ndjson' }, bytes);
  const ruleSet = ReferenceRuleSet.compile(schema, rules);
  const evaluated = ruleSet.evaluate(parsed.rows);
  const kept: Row[] = evaluated.validRows.map((r, i) => ({ ...(parsed.rows[r] as Row), band: evaluated.derived.band![i] ?? null }));
  const rejectLines = [
    ...parsed.rejects.map((r) => ({ line: r.line, kind: r.code as string })),
    ...evaluated.rejects.map((r) => ({ line: parsed.lines[r.row]!, kind: 'rule_failed' })),
  ];
  // Lateness is decided once per pipeline, row by row, before any view.
  let watermark: number | null = null;
  const onTime: Row[] = [];
  kept.forEach((r, i) => {
    const t = r.ts as number;
    if (allowedLatenessMs !== undefined && watermark !== null && t < watermark - allowedLatenessMs) {
      rejectLines.push({ line: parsed.lines[evaluated.validRows[i]!]!, kind: 'late' });
      return;
    }
    watermark = watermark === null ? t : Math.max(watermark, t);
    onTime.push(r);
  });
  const scope = new Map([...schema.fields.map((f) => [f.name, f.type] as const), ['band', 'string' as const]]);
  const answers = new Map<string, Row[]>();
  for (const v of views) {
    const ref = new ReferenceView(schema, v, { derivedColumns: ['band'] });
    const filter = v.filter ? compileCondition(v.filter, scope) : undefined;
    ref.update(onTime, onTime.map((r) => !filter || evalRow(filter, r) === true));
    answers.set(v.name, plainRows(ref.query({})));
  }
  rejectLines.sort((a, b) => a.line - b.line);
  return { answers, rejectLines, records: parsed.rows.length + parsed.rejects.length, applied: onTime.length, warned: evaluated.warnedRows };
}

function runNative(p: Pipeline, parts: Buffer[]) {
  const reports = [...parts.map((c) => p.push(c)), p.finish()];
  const sum = (k: 'records' | 'applied' | 'warned' | 'parseRejects' | 'ruleRejects' | 'late') => reports.reduce((a, r) => a + r[k], 0);
  const rejectLines = reports.flatMap((r) => r.rejects.map((x) => ({ line: x.line, kind: x.kind }))).sort((a, b) => a.line - b.line);
  return { records: sum('records'), applied: sum('applied'), warned: sum('warned'), rejected: sum('parseRejects') + sum('ruleRejects') + sum('late'), rejectLines };
}

const input = fc.record({
  lines: fc.array(line, { maxLength: 200 }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  lateness: fc.option(fc.constantFrom(0, 60_000, 600_000), { nil: undefined }),
});

describe('fused pipeline', () => {
  it('equals the composed TypeScript references: views, rejects and counts', () => {
    fc.assert(
      fc.property(input, ({ lines, cuts, lateness }) => {
        const bytes = Buffer.from(lines.join('\n'));
        const p = Pipeline.create(spec(lateness));
        const got = runNative(p, chunks(bytes, cuts));
        const want = reference(bytes, lateness);
        expect(got.rejectLines).toEqual(want.rejectLines);
        expect(got.records).toBe(want.records);
        expect(got.applied).toBe(want.applied);
        expect(got.warned).toBe(want.warned);
        // Invariant 4: every record is applied or rejected, none lost.
        expect(got.applied + got.rejected).toBe(got.records);
        for (const v of views) expectClose(rows(p.query(v.name, {})), want.answers.get(v.name)!);
      }),
      { numRuns: 120 },
    );
  });

  it('builds byte-identical states whatever the chunking (one logic, two layers)', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 150 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, cuts) => {
        const bytes = Buffer.from(lines.join('\n') + '\n');
        const whole = Pipeline.create(spec());
        runNative(whole, [bytes]);
        const cut = Pipeline.create(spec());
        runNative(cut, chunks(bytes, cuts));
        for (const v of views) expect(cut.snapshot(v.name).equals(whole.snapshot(v.name))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('merges the states of any split of the events into the state of all of them', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(line, fc.integer({ min: 0, max: 2 })), { maxLength: 150 }), (tagged) => {
        const all = Pipeline.create(spec());
        runNative(all, [Buffer.from(tagged.map(([l]) => l).join('\n'))]);
        const parts = [0, 1, 2].map((k) => {
          const p = Pipeline.create(spec());
          runNative(p, [Buffer.from(tagged.filter(([, t]) => t === k).map(([l]) => l).join('\n'))]);
          return p;
        });
        parts[0]!.merge(parts[1]!);
        parts[0]!.merge(parts[2]!);
        for (const v of views) expectClose(rows(parts[0]!.query(v.name, {})), rows(all.query(v.name, {})));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps events outside a view range out of that view only (the time boundary)', () => {
    const events = [0, 30_000, 60_000, 90_000, 120_000].map((d, i) => JSON.stringify({ ts: BASE + d, device: 'a', temp: 20, amount: i, status: 'ok' }));
    const p = Pipeline.create(spec());
    p.setViewRange('device_1m', BASE + 60_000, Number.POSITIVE_INFINITY);
    const r = p.push(Buffer.from(events.join('\n') + '\n'));
    expect(r.applied).toBe(5);
    expect(r.outOfRange).toBe(2);
    const minutes = rows(p.query('device_1m', {}));
    expect(minutes.map((m) => m.window_start)).toEqual([BASE + 60_000, BASE + 120_000]);
    // band_5m has no range: its window [BASE, BASE + 5m) holds all five events.
    expect(rows(p.query('band_5m', { from: BASE, to: BASE + 1 })).map((m) => m.n)).toEqual([5]);
  });

  it('round-trips a view through snapshot and restore, and evicts covered panes', () => {
    const events = Array.from({ length: 50 }, (_, i) => JSON.stringify({ ts: BASE + i * 10_000, device: i % 2 ? 'a' : 'b', temp: i, amount: i, status: 'ok' }));
    const p = Pipeline.create(spec());
    p.push(Buffer.from(events.join('\n')));
    p.finish();
    const q = Pipeline.create(spec());
    q.restore('device_1m', p.snapshot('device_1m'));
    expect(rows(q.query('device_1m', {}))).toEqual(rows(p.query('device_1m', {})));
    expect(q.watermark()).toBe(BASE + 49 * 10_000);
    expect(q.evictThrough('device_1m', BASE + 120_000)).toBeGreaterThan(0);
    expect(rows(q.query('device_1m', {}))[0]!.window_start).toBe(BASE + 120_000);
  });

  it('runs off the event loop and reports what each chunk did', async () => {
    const p = Pipeline.create(spec(60_000));
    const late = [JSON.stringify({ ts: BASE + HOUR, device: 'a', temp: 1, amount: 1, status: 'ok' }), JSON.stringify({ ts: BASE, device: 'a', temp: 1, amount: 1, status: 'ok' })];
    const r = await p.pushAsync(Buffer.from(late.join('\n') + '\n{"ts":\n'));
    const f = await p.finishAsync();
    expect(r.applied + f.applied).toBe(1);
    expect([...r.rejects, ...f.rejects].map((x) => x.kind).sort()).toEqual(['late', 'malformed_json']);
    expect(r.rejects.find((x) => x.kind === 'late')?.line).toBe(2);
    expect(p.ruleCounters().map((c) => c.id)).toEqual(rules.checks!.map((c) => c.id));
  });

  it('refuses a bad spec with a clear error', () => {
    expect(() => Pipeline.create({ ...spec(), views: [{ ...views[0]!, filter: 'nope >' }] })).toThrow(/device_1m.*filter/);
    expect(() => Pipeline.create({ ...spec(), rules: { checks: [{ id: 'x', field: 'missing', required: true }] } })).toThrow(/x/);
  });
});
