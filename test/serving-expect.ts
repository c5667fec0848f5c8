/**
 * Comparing a serving answer with the expected rows: the same windows, in
 * the same order, with equal group values and measures (integers exactly,
 * floats to 1e-9 relative), and `complete` set exactly where the window
 * ended at or before the answer's completeThrough.
 */
import { DataType, type Table } from 'apache-arrow';
import { expect } from 'vitest';

export type JsonRow = Record<string, unknown>;

/** Rows of a native query result as plain values: times as ms, Int64 as numbers, floats as numbers. */
export function tableRows(table: Table): Record<string, number | string | boolean | null>[] {
  const fields = table.schema.fields;
  const out: Record<string, number | string | boolean | null>[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, number | string | boolean | null> = {};
    for (const f of fields) {
      const v = table.getChild(f.name)?.get(i) as unknown;
      if (v === null || v === undefined) row[f.name] = null;
      else if (typeof v === 'bigint') row[f.name] = Number(v);
      else if (DataType.isTimestamp(f.type)) row[f.name] = Number(v);
      else row[f.name] = v as number | string | boolean;
    }
    out.push(row);
  }
  return out;
}

/** Why `actual` differs from `expected` (integers exactly, floats to 1e-9 relative), or undefined when equal. */
function numberMismatch(actual: unknown, expected: number): string | undefined {
  if (typeof actual !== 'number') return `expected the number ${expected}, got ${JSON.stringify(actual)}`;
  if (Number.isInteger(expected) && Number.isInteger(actual)) return actual === expected ? undefined : `expected ${expected}, got ${actual}`;
  const scale = Math.max(1, Math.abs(expected));
  return Math.abs(actual - expected) / scale <= 1e-9 ? undefined : `expected ${expected} (±1e-9 relative), got ${actual}`;
}

/**
 * Checks JSON rows of the serving layer against expected rows (from a
 * recomputation over all events). Timestamps in `timeColumns` are ISO text
 * in the answer and ms in the expectation. Differences are collected and
 * asserted once, so a large answer costs one assertion.
 */
export function expectSameRows(
  actual: readonly JsonRow[],
  expected: readonly Record<string, number | string | boolean | null>[],
  completeThrough: number | null,
  timeColumns: readonly string[] = ['window_start', 'window_end'],
  context = '',
): void {
  expect(actual.length, `${context} row count`).toBe(expected.length);
  const mismatches: string[] = [];
  expected.forEach((want, i) => {
    const got = actual[i] as JsonRow;
    for (const [name, value] of Object.entries(want)) {
      const v = got[name];
      let problem: string | undefined;
      if (value === null) problem = v === null ? undefined : `expected null, got ${JSON.stringify(v)}`;
      else if (timeColumns.includes(name)) {
        const iso = new Date(value as number).toISOString();
        problem = v === iso ? undefined : `expected ${iso}, got ${JSON.stringify(v)}`;
      } else if (typeof value === 'number') problem = numberMismatch(v, value);
      else problem = v === value ? undefined : `expected ${JSON.stringify(value)}, got ${JSON.stringify(v)}`;
      if (problem !== undefined) mismatches.push(`row ${i} ${name}: ${problem}`);
    }
    const complete = completeThrough !== null && (want.window_end as number) <= completeThrough;
    if (got.complete !== complete) mismatches.push(`row ${i} complete: expected ${complete}, got ${String(got.complete)}`);
  });
  expect(mismatches.slice(0, 20), context).toEqual([]);
}

/** A finalised reference value (test/reference/aggregate.ts) as a JSON answer carries it. */
function referenceNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/**
 * Checks JSON rows against the exact TypeScript reference over all events:
 * count, sum, min, max and avg exactly (floats to 1e-9 relative); distinct
 * (HyperLogLog) within 3 standard errors; quantiles (DDSketch) within the
 * sketch's relative accuracy.
 */
export function expectMatchesReference(
  actual: readonly JsonRow[],
  reference: readonly Record<string, unknown>[],
  measures: readonly { name: string; op: string; precision?: number; relativeAccuracy?: number }[],
  context = '',
): void {
  expect(actual.length, `${context} row count vs reference`).toBe(reference.length);
  const mismatches: string[] = [];
  reference.forEach((want, i) => {
    const got = actual[i] as JsonRow;
    for (const column of ['window_start', 'window_end']) {
      const iso = new Date(want[column] as number).toISOString();
      if (got[column] !== iso) mismatches.push(`row ${i} ${column}: expected ${iso}, got ${String(got[column])}`);
    }
    for (const m of measures) {
      const ref = referenceNumber(want[m.name]);
      const v = got[m.name];
      if (ref === null) {
        if (v !== null) mismatches.push(`row ${i} ${m.name}: expected null, got ${JSON.stringify(v)}`);
        continue;
      }
      if (typeof v !== 'number') {
        mismatches.push(`row ${i} ${m.name}: expected a number near ${ref}, got ${JSON.stringify(v)}`);
        continue;
      }
      let ok: boolean;
      if (m.op === 'distinct') ok = Math.abs(v - ref) <= Math.max(1, (3 * 1.04 * ref) / Math.sqrt(2 ** (m.precision ?? 12)));
      else if (m.op === 'quantile') ok = Math.abs(v - ref) <= (m.relativeAccuracy ?? 0.01) * Math.abs(ref) + 1e-9;
      else ok = numberMismatch(v, ref) === undefined;
      if (!ok) mismatches.push(`row ${i} ${m.name} (${m.op}): reference ${ref}, got ${v}`);
    }
  });
  expect(mismatches.slice(0, 20), context).toEqual([]);
}
