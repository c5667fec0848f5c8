/**
 * Reference rule engine: the contract's rules spec evaluated row by row on
 * plain JS objects, with the same null semantics as the native core. It is
 * the oracle of the differential tests and the "TypeScript reference" peer
 * of the benchmark.
 *
 * Row values: int64 → bigint, float64 → number, bool → boolean, string →
 * string, timestamp → number (epoch ms), missing or null → SQL NULL.
 */
import { Bool, Float64, Int64, Table, TimestampMillisecond, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import type { FieldType, RuleCheck, RuleSchema, RulesSpec, Severity } from '../../src/core/rules.js';
import { I64_MAX, compileCondition, evalRow, parseIso8601, SyntaxError, type Row, type Scope, type TExpr } from './expr.js';

export type { Row } from './expr.js';

/** A spec the reference refuses; the message names the rule like the native core's. */
export class ReferenceCompileError extends Error {}

// ------------------------------------------------------------ text grammar

/** `[+-]?[0-9]+` within int64. */
export function isInt64(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v <= I64_MAX;
}

const FLOAT_TEXT = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$/;

export function isFloat64(s: string): boolean {
  return FLOAT_TEXT.test(s) && Number.isFinite(Number(s));
}

/** Bare epoch milliseconds, as the schema crate reads them. */
export function parseEpochMs(s: string): bigint | null {
  if (s === '') return null;
  const body = s[0] === '-' || s[0] === '+' ? s.slice(1) : s;
  if (body === '') return null;
  if (/^[0-9]+$/.test(body)) {
    const v = BigInt(body);
    if (v > I64_MAX) return null;
    return s[0] === '-' ? -v : v;
  }
  if (!/^[0-9.eE+-]+$/.test(s) || !FLOAT_TEXT.test(s)) return null;
  const ms = Math.floor(Number(s));
  if (!Number.isFinite(ms) || Math.abs(ms) > 9e15) return null;
  return BigInt(ms);
}

export function parsesAs(s: string, t: FieldType): boolean {
  switch (t) {
    case 'string':
      return true;
    case 'int64':
      return isInt64(s);
    case 'float64':
      return isFloat64(s);
    case 'bool':
      return /^(true|false)$/i.test(s);
    case 'timestamp':
      return parseIso8601(s) !== null || parseEpochMs(s) !== null;
  }
}

// ------------------------------------------------------------ checks

type Test = (v: unknown, row: Row) => boolean; // true = the row fails

interface CompiledCheck {
  id: string;
  severity: Severity;
  fails: Test;
}

interface CompiledDerivation {
  column: string;
  fallback: string | null;
  cases: { when: TExpr; set: string }[];
}

const KINDS = ['required', 'range', 'in', 'regex', 'length', 'type', 'expr'] as const;

function numericBound(b: number | string, ty: FieldType, fail: (m: string) => never): bigint | number {
  if (ty === 'timestamp') {
    if (typeof b === 'string') return parseIso8601(b) ?? fail(`range bound '${b}' is not an ISO-8601 timestamp with an offset`);
    if (Number.isInteger(b) && Math.abs(b) < 9e15) return BigInt(b);
    return fail(`range bound ${b} must be whole milliseconds or an ISO-8601 string`);
  }
  if (typeof b === 'string') return fail(`range bound '${b}' must be a number for ${ty} field`);
  if (ty === 'float64') return b;
  return Number.isInteger(b) && Math.abs(b) < 9e15 ? BigInt(b) : b;
}

/** `v` against one bound: exact for two integers, else as floats (NaN never in range). */
function within(v: bigint | number, bound: bigint | number, lower: boolean, exclusive: boolean): boolean {
  const [x, y] = typeof v === 'bigint' && typeof bound === 'bigint' ? [v, bound] : [Number(v), Number(bound)];
  if (lower) return exclusive ? x > y : x >= y;
  return exclusive ? x < y : x <= y;
}

function fieldTest(check: RuleCheck & { field: string }, ty: FieldType, fail: (m: string) => never): Test {
  const wrong = (kind: string, what: string): never => fail(`${kind} needs ${what}, but field '${check.field}' is ${ty}`);
  if ('required' in check) return check.required ? (v) => v === null || v === undefined : () => false;
  const onValue =
    (t: (v: unknown) => boolean): Test =>
    (v) =>
      v !== null && v !== undefined && t(v);
  if ('range' in check) {
    if (ty !== 'int64' && ty !== 'float64' && ty !== 'timestamp') wrong('range', 'a numeric or timestamp field');
    const r = check.range;
    if (r.min === undefined && r.max === undefined) fail('range needs min or max');
    const lo = r.min === undefined ? undefined : numericBound(r.min, ty, fail);
    const hi = r.max === undefined ? undefined : numericBound(r.max, ty, fail);
    return onValue((raw) => {
      const v = typeof raw === 'bigint' || typeof raw === 'number' ? (ty === 'timestamp' ? BigInt(raw) : raw) : NaN;
      const loOk = lo === undefined || within(v, lo, true, r.minExclusive ?? false);
      const hiOk = hi === undefined || within(v, hi, false, r.maxExclusive ?? false);
      const isNan = typeof v === 'number' && Number.isNaN(v);
      return isNan || !(loOk && hiOk);
    });
  }
  if ('in' in check) {
    if (check.in.length === 0) fail('in needs at least one value');
    const whole = (x: unknown): bigint | null => (typeof x === 'number' && Number.isInteger(x) && Math.abs(x) < 9e15 ? BigInt(x) : null);
    const bad = (x: unknown, what: string): never => fail(`in values for ${ty} field '${check.field}' must be ${what}, found ${JSON.stringify(x)}`);
    let set: unknown[];
    switch (ty) {
      case 'int64':
        set = check.in.map((x) => whole(x) ?? bad(x, 'integers'));
        break;
      case 'timestamp':
        set = check.in.map((x) => (typeof x === 'string' ? parseIso8601(x) : whole(x)) ?? bad(x, 'whole milliseconds or ISO-8601 strings with an offset'));
        break;
      case 'float64':
        set = check.in.map((x) => (typeof x === 'number' ? x : bad(x, 'numbers')));
        break;
      case 'string':
        set = check.in.map((x) => (typeof x === 'string' ? x : bad(x, 'strings')));
        break;
      case 'bool':
        set = check.in.map((x) => (typeof x === 'boolean' ? x : bad(x, 'true or false')));
        break;
    }
    return onValue((v) => !set.some((x) => x === (ty === 'timestamp' ? BigInt(v as number) : v)));
  }
  if ('regex' in check) {
    if (ty !== 'string') wrong('regex', 'a string field');
    let re: RegExp;
    try {
      re = new RegExp(check.regex, 'u');
    } catch (e) {
      return fail(`invalid regex: ${(e as Error).message}`);
    }
    return onValue((v) => !re.test(v as string));
  }
  if ('length' in check) {
    if (ty !== 'string') wrong('length', 'a string field');
    const { min, max } = check.length;
    if (min === undefined && max === undefined) fail('length needs min or max');
    return onValue((v) => {
      const n = Array.from(v as string).length;
      return (min !== undefined && n < min) || (max !== undefined && n > max);
    });
  }
  if ('type' in check) {
    if (check.type === ty) return () => false;
    if (ty !== 'string') fail(`type ${check.type} applies to string fields (or a field of that type), but field '${check.field}' is ${ty}`);
    const t = check.type;
    return onValue((v) => !parsesAs(v as string, t));
  }
  return fail('unknown check kind');
}

// ------------------------------------------------------------ rule set

export interface ReferenceCounter {
  id: string;
  severity: Severity;
  evaluated: number;
  failed: number;
  warned: number;
}

export interface ReferenceResult {
  /** Indices of kept rows, in order. */
  validRows: number[];
  /** Rejected rows with the ids of the error checks they failed, in rule order. */
  rejects: { row: number; ruleIds: string[] }[];
  warnedRows: number;
  /** Derived column → label of each kept row. */
  derived: Record<string, (string | null)[]>;
}

export class ReferenceRuleSet {
  private readonly counts: ReferenceCounter[];

  private constructor(
    private readonly checks: CompiledCheck[],
    private readonly derivations: CompiledDerivation[],
    private readonly halt: boolean,
  ) {
    this.counts = checks.map((c) => ({ id: c.id, severity: c.severity, evaluated: 0, failed: 0, warned: 0 }));
  }

  /** Compiles a spec; throws `ReferenceCompileError` naming the rule on a bad one. */
  static compile(schema: RuleSchema, spec: RulesSpec): ReferenceRuleSet {
    const types = new Map<string, Exclude<FieldType, never>>(schema.fields.map((f) => [f.name, f.type]));
    const scope: Scope = types;
    const seen = new Set<string>();
    const checks: CompiledCheck[] = [];
    for (const check of spec.checks ?? []) {
      const fail = (m: string): never => {
        throw new ReferenceCompileError(`rule '${check.id}': ${m}`);
      };
      if (check.id === '') fail('a rule id must not be empty');
      const kinds = KINDS.filter((k) => k in check);
      if (kinds.length !== 1) fail(`a check needs exactly one of ${KINDS.join(', ')} (found ${kinds.join(', ') || 'none'})`);
      if (seen.has(check.id)) fail('duplicate rule id');
      seen.add(check.id);
      let fails: Test;
      if ('expr' in check) {
        const e = condition(check.expr, scope, `rule '${check.id}'`);
        fails = (_v, row) => evalRow(e, row) === false;
        checks.push({ id: check.id, severity: check.severity ?? 'error', fails });
        continue;
      }
      const ty = types.get(check.field) ?? fail(`unknown field '${check.field}'`);
      const test = fieldTest(check, ty, fail);
      const field = check.field;
      checks.push({ id: check.id, severity: check.severity ?? 'error', fails: (_v, row) => test(row[field], row) });
    }
    const derivations: CompiledDerivation[] = [];
    const derivedScope = new Map(types);
    for (const d of spec.derive ?? []) {
      if (derivedScope.has(d.column)) {
        throw new ReferenceCompileError(`derivation '${d.column}': column already exists (a schema field or an earlier derivation)`);
      }
      const cases = d.cases.map((c, k) => ({ when: condition(c.when, derivedScope, `derivation '${d.column}' case ${k + 1}`), set: c.set }));
      derivations.push({ column: d.column, fallback: d.default ?? null, cases });
      derivedScope.set(d.column, 'string');
    }
    return new ReferenceRuleSet(checks, derivations, spec.onError === 'halt');
  }

  get ruleIds(): string[] {
    return this.checks.map((c) => c.id);
  }

  counters(): ReferenceCounter[] {
    return this.counts.map((c) => ({ ...c }));
  }

  /** Evaluates rows one at a time. With `onError: halt`, throws at the first rejected row. */
  evaluate(rows: readonly Row[]): ReferenceResult {
    const out: ReferenceResult = { validRows: [], rejects: [], warnedRows: 0, derived: {} };
    const failures = rows.map((row) => this.checks.map((c) => c.fails(undefined, row)));
    if (this.halt) {
      failures.forEach((f, row) => {
        const first = this.checks.findIndex((c, k) => f[k] && c.severity === 'error');
        if (first >= 0) throw new Error(`rule '${this.checks[first]!.id}' failed on row ${row}`);
      });
    }
    const kept: Row[] = [];
    failures.forEach((f, row) => {
      const errors = this.checks.filter((c, k) => f[k] && c.severity === 'error').map((c) => c.id);
      const warned = this.checks.some((c, k) => f[k] && c.severity === 'warn');
      this.checks.forEach((c, k) => {
        const n = this.counts[k]!;
        n.evaluated++;
        if (f[k]) n.failed++;
        if (f[k] && c.severity === 'warn' && errors.length === 0) n.warned++;
      });
      if (errors.length > 0) {
        out.rejects.push({ row, ruleIds: errors });
        return;
      }
      out.validRows.push(row);
      if (warned) out.warnedRows++;
      kept.push(rows[row]!);
    });
    for (const d of this.derivations) out.derived[d.column] = [];
    kept.forEach((row) => {
      const withTags: Record<string, unknown> = { ...row };
      for (const d of this.derivations) {
        const hit = d.cases.find((c) => evalRow(c.when, withTags) === true);
        const label = hit ? hit.set : d.fallback;
        withTags[d.column] = label;
        out.derived[d.column]!.push(label);
      }
    });
    return out;
  }
}

function condition(text: string, scope: Scope, subject: string): TExpr {
  try {
    return compileCondition(text, scope);
  } catch (e) {
    if (e instanceof SyntaxError) throw new ReferenceCompileError(`${subject}: column ${e.column}: ${e.reason}`);
    throw e;
  }
}

// ------------------------------------------------------------ rows → Table

/** Builds an apache-arrow Table of `schema`'s types from plain rows (the reference's value mapping). */
export function tableFromRows(schema: RuleSchema, rows: readonly Row[]): Table {
  const columns: Record<string, Vector> = {};
  for (const f of schema.fields) {
    const values = rows.map((r) => {
      const v = r[f.name];
      return v === undefined ? null : v;
    });
    switch (f.type) {
      case 'int64':
        columns[f.name] = vectorFromArray(values as (bigint | null)[], new Int64());
        break;
      case 'float64':
        columns[f.name] = vectorFromArray(values as (number | null)[], new Float64());
        break;
      case 'bool':
        columns[f.name] = vectorFromArray(values as (boolean | null)[], new Bool());
        break;
      case 'string':
        columns[f.name] = vectorFromArray(values as (string | null)[], new Utf8());
        break;
      case 'timestamp':
        columns[f.name] = vectorFromArray(values as unknown as (Date | null)[], new TimestampMillisecond('UTC'));
        break;
    }
  }
  return new Table(columns);
}
