/**
 * Differential property tests: the native rule engine against the
 * TypeScript reference, on random rule sets (every check kind, random
 * expression trees, derivations) × random batches with nulls.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Table } from 'apache-arrow';
import { RuleSet, type RuleCheck, type RuleSchema, type RulesSpec } from '../src/core/rules.js';
import { I64_MAX, I64_MIN } from './reference/expr.js';
import { ReferenceCompileError, ReferenceRuleSet, tableFromRows, type Row } from './reference/rules.js';

const T0 = Date.UTC(2026, 0, 1);

/** One field of every type (two of some, for cross-field expressions). */
const schema: RuleSchema = {
  fields: [
    { name: 'i', type: 'int64' },
    { name: 'j', type: 'int64' },
    { name: 'f', type: 'float64' },
    { name: 'b', type: 'bool' },
    { name: 's', type: 'string' },
    { name: 'u', type: 'string' },
    { name: 't', type: 'timestamp' },
    { name: 't2', type: 'timestamp' },
  ],
};

// Σ is left out: its lower case depends on the neighbouring letters.
const ALPHABET = ['a', 'b', 'A', 'B', 'é', 'É', 'ß', '😀', '1', '7', '-', ' ', '.', "'"];
const REGEXES = ['^a', 'b$', '[a-c]+', '^[0-9]+$', 'é|ß', '^$', 'a.b', '(ab)*c?', '^[A-Z]', '😀'];

const int64 = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: -100n, max: 100n }) },
  { weight: 1, arbitrary: fc.constantFrom(I64_MAX, I64_MIN, I64_MAX - 1n, 1n << 62n) },
);
// Floats with two decimals, plus the IEEE corner cases; both engines use doubles.
const float64 = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -10_000, max: 10_000 }).map((x) => x / 100) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e300, -1e300, Number.NaN, 0.1) },
);
const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 4 }).map((a) => a.join(''));
const ts = fc.integer({ min: -2, max: 2 }).map((k) => T0 + k * 1000);
const nullable = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.option(a, { nil: null, freq: 5 });

const row: fc.Arbitrary<Row> = fc.record({
  i: nullable(int64),
  j: nullable(int64),
  f: nullable(float64),
  b: nullable(fc.boolean()),
  s: nullable(text),
  u: nullable(text),
  t: nullable(ts),
  t2: nullable(ts),
});

const intLit = int64.map((v) => (v === I64_MIN ? '(-9223372036854775807 - 1)' : v < 0n ? `(${v})` : `${v}`));
const floatLit = fc.integer({ min: -1000, max: 1000 }).map((x) => (x / 100).toFixed(2));
const strLit = text.map((s) => `'${s.replaceAll("'", "''")}'`);
const isoLit = ts.map((ms) => `'${new Date(ms).toISOString()}'`);
const kw = (k: string): fc.Arbitrary<string> => fc.constantFrom(k, k.toUpperCase());
const cmpOp = fc.constantFrom('=', '==', '!=', '<>', '<', '<=', '>', '>=');
const not = fc.constantFrom('', 'not ', 'NOT ');

/** Well-typed random expressions, one arbitrary per type. */
const exprs = fc.letrec<{ int: string; float: string; str: string; ts: string; bool: string }>((tie) => ({
  int: fc.oneof(
    { maxDepth: 3 },
    fc.constantFrom('i', 'j'),
    intLit,
    fc.tuple(tie('int'), fc.constantFrom('+', '-', '*', '%'), tie('int')).map(([a, o, b]) => `(${a} ${o} ${b})`),
    tie('int').map((a) => `abs(${a})`),
    tie('str').map((a) => `length(${a})`),
    tie('int').map((a) => `-${a}`),
    fc.tuple(tie('int'), tie('int')).map(([a, b]) => `coalesce(${a}, ${b})`),
    fc.tuple(tie('ts'), tie('ts')).map(([a, b]) => `(${a} - ${b})`),
  ),
  float: fc.oneof(
    { maxDepth: 3 },
    fc.constant('f'),
    floatLit,
    fc.tuple(tie('int'), tie('int')).map(([a, b]) => `(${a} / ${b})`),
    fc.tuple(tie('float'), fc.constantFrom('+', '-', '*', '/', '%'), tie('int')).map(([a, o, b]) => `(${a} ${o} ${b})`),
    fc.tuple(tie('float'), fc.constantFrom('+', '-', '*', '/', '%'), tie('float')).map(([a, o, b]) => `(${a} ${o} ${b})`),
    tie('float').map((a) => `abs(${a})`),
    fc.tuple(tie('float'), tie('int')).map(([a, b]) => `coalesce(${a}, ${b})`),
    tie('float').map((a) => `-(${a})`),
  ),
  str: fc.oneof(
    { maxDepth: 3 },
    fc.constantFrom('s', 'u'),
    strLit,
    tie('str').map((a) => `lower(${a})`),
    tie('str').map((a) => `UPPER(${a})`),
    fc.tuple(tie('str'), tie('str')).map(([a, b]) => `coalesce(${a}, ${b})`),
  ),
  ts: fc.oneof(
    { maxDepth: 3 },
    fc.constantFrom('t', 't2', '"t"'),
    fc.tuple(tie('ts'), tie('int')).map(([a, b]) => `(${a} + ${b})`),
    fc.tuple(tie('ts'), tie('int')).map(([a, b]) => `(${a} - ${b})`),
    fc.tuple(tie('ts'), isoLit).map(([a, b]) => `coalesce(${a}, ${b})`),
  ),
  bool: fc.oneof(
    { maxDepth: 3 },
    fc.constantFrom('b', 'true', 'false', 'null', 'TRUE'),
    fc.tuple(fc.constantFrom('i', 'j'), cmpOp, intLit).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(tie('int'), cmpOp, tie('int')).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(tie('float'), cmpOp, tie('int')).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(tie('str'), cmpOp, tie('str')).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(tie('ts'), cmpOp, fc.oneof(isoLit, tie('ts'))).map(([a, o, b]) => `${a} ${o} ${b}`),
    fc.tuple(tie('bool'), fc.constantFrom('=', '!=', '<>'), tie('bool')).map(([a, o, b]) => `(${a}) ${o} (${b})`),
    fc.tuple(fc.oneof(tie('int'), tie('str'), tie('ts'), tie('bool').map((x) => `(${x})`)), not, kw('is'), kw('null')).map(
      ([a, n, is, nul]) => `${a} ${is} ${n}${nul}`,
    ),
    fc
      .tuple(
        fc.oneof(
          fc.tuple(tie('int'), fc.array(fc.integer({ min: -20, max: 20 }).map(String), { minLength: 1, maxLength: 4 })),
          fc.tuple(tie('float'), fc.array(floatLit, { minLength: 1, maxLength: 4 })),
          fc.tuple(tie('str'), fc.array(strLit, { minLength: 1, maxLength: 12 })),
          fc.tuple(tie('ts'), fc.array(fc.oneof(isoLit, ts.map(String)), { minLength: 1, maxLength: 4 })),
          fc.tuple(fc.constant('b'), fc.array(fc.constantFrom('true', 'false'), { minLength: 1, maxLength: 2 })),
        ),
        not,
        fc.boolean(),
      )
      .map(([[lhs, items], n, withNull]) => `${lhs} ${n}in (${[...items, ...(withNull ? ['null'] : [])].join(', ')})`),
    fc
      .tuple(
        fc.oneof(
          fc.tuple(tie('int'), tie('int'), tie('int')),
          fc.tuple(tie('float'), intLit, floatLit),
          fc.tuple(tie('ts'), isoLit, tie('ts')),
        ),
        not,
      )
      .map(([[x, lo, hi], n]) => `${x} ${n}BETWEEN ${lo} AND ${hi}`),
    fc.tuple(tie('bool'), kw('and'), tie('bool')).map(([a, k, b]) => `${a} ${k} ${b}`),
    fc.tuple(tie('bool'), kw('or'), tie('bool')).map(([a, k, b]) => `${a} ${k} ${b}`),
    tie('bool').map((a) => `not (${a})`),
    fc
      .tuple(fc.constantFrom('starts_with', 'ends_with', 'contains', 'Contains'), tie('str'), fc.oneof(strLit, tie('str')))
      .map(([f, a, b]) => `${f}(${a}, ${b})`),
  ),
}));

const severity = fc.constantFrom<'error' | 'warn'>('error', 'error', 'warn');

/** A check without its id and severity (distributed over the check kinds). */
type CheckBody = RuleCheck extends infer C ? (C extends RuleCheck ? Omit<C, 'id' | 'severity'> : never) : never;

const rangeBounds: fc.Arbitrary<CheckBody> = fc
  .oneof(
    fc.tuple(fc.constant('i'), int64.map(Number).filter((x) => Math.abs(x) < 1e15), fc.integer({ min: -100, max: 100 })),
    fc.tuple(fc.constant('j'), fc.integer({ min: -4, max: 6 }).map((x) => x / 4), fc.integer({ min: 0, max: 50 })),
    fc.tuple(fc.constant('f'), floatLit.map(Number), fc.integer({ min: -100, max: 100 })),
    fc.tuple(fc.constant('t'), isoLit.map((s) => s.slice(1, -1)), ts),
  )
  .chain(([field, lo, hi]) =>
    fc
      .record({ min: fc.option(fc.constant(lo), { nil: undefined }), max: fc.constant(hi), minExclusive: fc.boolean(), maxExclusive: fc.boolean() })
      .map((range) => ({ field, range: JSON.parse(JSON.stringify(range)) as typeof range })),
  );

const check: fc.Arbitrary<CheckBody> = fc.oneof(
  fc.record({ field: fc.constantFrom('i', 'f', 'b', 's', 't'), required: fc.constant(true) }),
  rangeBounds,
  fc.oneof(
    fc.record({ field: fc.constant('i'), in: fc.array(fc.integer({ min: -100, max: 100 }), { minLength: 1, maxLength: 10 }) }),
    fc.record({ field: fc.constant('f'), in: fc.array(floatLit.map(Number), { minLength: 1, maxLength: 10 }) }),
    fc.record({ field: fc.constant('s'), in: fc.array(text, { minLength: 1, maxLength: 12 }) }),
    fc.record({ field: fc.constant('t'), in: fc.array(fc.oneof(ts, isoLit.map((s) => s.slice(1, -1))), { minLength: 1, maxLength: 4 }) }),
    fc.record({ field: fc.constant('b'), in: fc.array(fc.boolean(), { minLength: 1, maxLength: 2 }) }),
  ),
  fc.record({ field: fc.constantFrom('s', 'u'), regex: fc.constantFrom(...REGEXES) }),
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([min, extra]) => ({ field: 's', length: { min, max: min + extra } })),
  fc.record({ field: fc.constant('u'), type: fc.constantFrom('int64', 'float64', 'bool', 'timestamp', 'string') as fc.Arbitrary<'int64'> }),
  exprs.bool.map((expr) => ({ expr })),
) as fc.Arbitrary<CheckBody>;

const spec: fc.Arbitrary<RulesSpec> = fc
  .record({
    checks: fc.array(fc.tuple(check, severity), { minLength: 1, maxLength: 7 }),
    derive: fc.array(
      fc.record({
        cases: fc.array(exprs.bool, { minLength: 1, maxLength: 3 }),
        default: fc.option(fc.constant('other'), { nil: undefined }),
      }),
      { maxLength: 2 },
    ),
  })
  .map(({ checks, derive }) => ({
    checks: checks.map(([body, sev], k) => ({ id: `r${k}`, severity: sev, ...body }) as RuleCheck),
    derive: derive.map((d, n) => ({
      column: `tag${n}`,
      ...(d.default === undefined ? {} : { default: d.default }),
      cases: d.cases.map((when, k) => ({ when, set: `c${k}` })),
    })),
  }));

/** Column `name` of a Table as JS values (bigint for int64, ms for timestamps). */
function column(t: Table, name: string): unknown[] {
  const c = t.getChild(name);
  if (!c) throw new Error(`missing column ${name}`);
  return Array.from({ length: t.numRows }, (_, k) => c.get(k) ?? null);
}

/** Compares values so that NaN equals NaN and -0 equals 0 (as Arrow round-trips them). */
const same = (a: unknown, b: unknown): boolean => Object.is(a, b) || a === b;

describe('native rule engine vs the TypeScript reference', () => {
  it('agrees on valid rows, rejects, warnings, counters and derived labels', () => {
    fc.assert(
      fc.property(spec, fc.array(row, { maxLength: 40 }), (s, rows) => {
        const native = RuleSet.compile(schema, s);
        const reference = ReferenceRuleSet.compile(schema, s);
        const got = native.evaluate(tableFromRows(schema, rows));
        const want = reference.evaluate(rows);

        expect(got.rejects.map((r) => ({ row: r.row, ruleIds: r.ruleIds }))).toEqual(want.rejects);
        expect(got.valid.numRows).toBe(want.validRows.length);
        expect(got.warnedRows).toBe(want.warnedRows);
        expect(got.counters).toEqual(reference.counters());
        for (const f of schema.fields) {
          const kept = column(got.valid, f.name);
          want.validRows.forEach((src, k) => {
            expect(same(kept[k], rows[src]![f.name] ?? null), `${f.name} of row ${src}`).toBe(true);
          });
        }
        for (const [name, labels] of Object.entries(want.derived)) {
          expect(column(got.valid, name)).toEqual(labels);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts and refuses the same expressions, reporting the same column and message', () => {
    const tokens = fc.constantFrom(
      ...['i', 's', 't', 'b', 'f', '"i"', 'x', '(', ')', ',', '+', '-', '*', '/', '%', '=', '<', '<=', '<>', '!', 'and', 'or', 'not', 'is', 'null', 'in', 'between'],
      ...['true', 'FALSE', '1', '2.5', '1e3', "'x'", "'2026-01-01T00:00:00Z'", 'lower(', 'coalesce(', 'abs(', 'length(', 'contains(', 'nope(', "'open", '7z'],
    );
    const anyTyped = fc.oneof(exprs.int, exprs.float, exprs.str, exprs.ts, exprs.bool.map((b) => `(${b})`));
    // Operators and functions applied to operands of any type: mostly type errors.
    const illTyped = fc.oneof(
      fc.tuple(anyTyped, fc.constantFrom('+', '-', '*', '/', '%', '=', '<', '>=', 'and', 'or'), anyTyped).map(([a, o, b]) => `${a} ${o} ${b}`),
      fc.tuple(fc.constantFrom('lower', 'length', 'abs', 'contains', 'coalesce', 'starts_with'), fc.array(anyTyped, { maxLength: 3 })).map(
        ([f, args]) => `${f}(${args.join(', ')})`,
      ),
      fc.tuple(anyTyped, not, fc.array(fc.oneof(intLit, floatLit, strLit, isoLit, fc.constant('true')), { minLength: 1, maxLength: 3 })).map(
        ([a, n, items]) => `${a} ${n}in (${items.join(', ')})`,
      ),
      fc.tuple(anyTyped, anyTyped, anyTyped).map(([a, b, c]) => `${a} between ${b} and ${c}`),
      anyTyped.map((a) => `not ${a}`),
    );
    const exprText = fc.oneof(fc.array(tokens, { maxLength: 12 }).map((a) => a.join(' ')), illTyped, exprs.bool, exprs.int);
    fc.assert(
      fc.property(exprText, (expr) => {
        const s: RulesSpec = { checks: [{ id: 'e', expr }] };
        let native: string | undefined;
        let reference: string | undefined;
        try {
          RuleSet.compile(schema, s);
        } catch (e) {
          native = (e as Error).message;
        }
        try {
          ReferenceRuleSet.compile(schema, s);
        } catch (e) {
          if (!(e instanceof ReferenceCompileError)) throw e;
          reference = e.message;
        }
        expect(native, expr).toEqual(reference);
      }),
      { numRuns: 1000 },
    );
  });
});
