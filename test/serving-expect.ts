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

function close(actual: unknown, expected: number, where: string): void {
  expect(typeof actual, where).toBe('number');
  const a = actual as number;
  if (Number.isInteger(expected) && Number.isInteger(a)) {
    expect(a, where).toBe(expected);
    return;
  }
  const scale = Math.max(1, Math.abs(expected));
  expect(Math.abs(a - expected) / scale, `${where}: ${a} vs ${expected}`).toBeLessThanOrEqual(1e-9);
}

/**
 * Checks JSON rows of the serving layer against expected rows (from a
 * recomputation over all events). Timestamps in `timeColumns` are ISO text
 * in the answer and ms in the expectation.
 */
export function expectSameRows(
  actual: readonly JsonRow[],
  expected: readonly Record<string, number | string | boolean | null>[],
  completeThrough: number | null,
  timeColumns: readonly string[] = ['window_start', 'window_end'],
  context = '',
): void {
  expect(actual.length, `${context} row count`).toBe(expected.length);
  expected.forEach((want, i) => {
    const got = actual[i] as JsonRow;
    for (const [name, value] of Object.entries(want)) {
      const where = `${context} row ${i} column ${name}`;
      if (value === null) expect(got[name], where).toBeNull();
      else if (timeColumns.includes(name)) expect(got[name], where).toBe(new Date(value as number).toISOString());
      else if (typeof value === 'number') close(got[name], value, where);
      else expect(got[name], where).toBe(value);
    }
    const end = want.window_end as number;
    expect(got.complete, `${context} row ${i} complete`).toBe(completeThrough !== null && end <= completeThrough);
  });
}
