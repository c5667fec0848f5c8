/**
 * A plain TypeScript reference aggregator for view windows: it keeps every
 * event and computes each window's measures from scratch, exactly. The
 * native core's answers are checked against it.
 *
 * Exactness, so comparisons need no slack where the native core is exact:
 * - integer sums in bigint;
 * - float sums exact: every double is an integer times a power of two, so
 *   the sum is an exact bigint at the smallest exponent present, rounded
 *   once to the nearest double (ties to even) — the correctly rounded sum;
 * - avg = that sum / count in double arithmetic;
 * - distinct: the exact number of distinct non-null values (−0 counts as 0);
 * - quantile: the exact value at 0-based rank ⌊q·(n−1)⌋ of the sorted finite
 *   values. A DDSketch with relative accuracy α answers within α·|value| of
 *   it (its guarantee), HyperLogLog within a few standard errors 1.04/√m.
 */
import type { FieldType, MeasureSpec, SchemaSpec, ViewQuery, ViewSpec } from '../../src/core/window.js';

export type Value = string | number | bigint | boolean | null;
export type Row = Record<string, Value>;

/** Splits a double into an integer mantissa and a power-of-two exponent. */
function decompose(x: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const sign = hi >>> 31 ? -1n : 1n;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) {
    exp = -1074;
  } else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  return { mant: sign * mant, exp };
}

/** The exact sum of finite doubles, rounded once to the nearest double. */
export function exactSum(xs: readonly number[]): number {
  const parts = xs.filter((x) => x !== 0).map(decompose);
  if (parts.length === 0) return 0;
  const base = Math.min(...parts.map((p) => p.exp));
  let total = 0n;
  for (const p of parts) total += p.mant << BigInt(p.exp - base);
  if (total === 0n) return 0;
  const negative = total < 0n;
  let mag = negative ? -total : total;
  const bits = mag.toString(2).length;
  let result: number;
  if (bits + base <= -1022) {
    // Below the normal range: an exact multiple of 2^-1074 under 2^52.
    result = Number(mag << BigInt(base + 1074)) * 2 ** -1074;
  } else {
    // Keep 64 bits plus a sticky bit: Number() then rounds like the exact
    // value would (nearest, ties to even); power-of-two scaling is exact.
    let exp = base;
    if (bits > 64) {
      const shift = BigInt(bits - 64);
      const sticky = (mag & ((1n << shift) - 1n)) !== 0n;
      mag = (mag >> shift) | (sticky ? 1n : 0n);
      exp += bits - 64;
    }
    result = exp >= -1022 ? Number(mag) * 2 ** exp : Number(mag) * 2 ** (exp + 200) * 2 ** -200;
  }
  return negative ? -result : result;
}

/** Canonical identity of a value for distinct counting. */
function distinctKey(v: Exclude<Value, null>): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  return `${typeof v}:${String(v)}`;
}

/** Ascending order of group values: nulls first, strings by UTF-8 bytes. */
function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (typeof a === 'boolean' && typeof b === 'boolean') return a ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The value at 0-based rank ⌊q·(n−1)⌋ of the sorted values. */
export function exactQuantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b || (Object.is(a, -0) ? -1 : Object.is(b, -0) ? 1 : 0));
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function measureName(m: MeasureSpec): string {
  return m.name ?? (m.field ? `${m.op}_${m.field}` : m.op);
}

/** Finalised value of one measure over the events of one window. */
export function measure(m: MeasureSpec, fieldType: FieldType | undefined, events: readonly Row[]): Value {
  if (m.op === 'count' && !m.field) return events.length;
  const values = events.map((e) => e[m.field!] ?? null).filter((v): v is Exclude<Value, null> => v !== null);
  switch (m.op) {
    case 'count':
      return values.length;
    case 'distinct':
      return new Set(values.map(distinctKey)).size;
    case 'sum':
    case 'avg': {
      if (values.length === 0) return null;
      if (fieldType === 'float64') {
        const s = exactSum(values as number[]);
        return m.op === 'sum' ? s : s / values.length;
      }
      const s = values.reduce<bigint>((acc, v) => acc + BigInt(v as number | bigint), 0n);
      return m.op === 'sum' ? s : Number(s) / values.length;
    }
    case 'min':
    case 'max': {
      const nums = values.filter((v) => !(typeof v === 'number' && Number.isNaN(v)));
      if (nums.length === 0) return null;
      const sign = m.op === 'min' ? -1 : 1;
      return nums.reduce((best, v) => {
        const cmp = v === best ? (Object.is(v, -0) ? -1 : Object.is(best, -0) ? 1 : 0) : v > best ? 1 : -1;
        return cmp * sign > 0 ? v : best;
      });
    }
    case 'quantile': {
      const finite = values.map(Number).filter(Number.isFinite);
      return exactQuantile(finite, m.q ?? 0.5);
    }
  }
}

interface Window {
  start: number;
  end: number;
  key: Value[];
  events: Row[];
}

/**
 * The reference view: keeps the applied events; `query` recomputes every
 * window (tumbling, hopping, session) from them.
 */
export class ReferenceView {
  private readonly events: Row[] = [];
  private watermarkMs: number | null = null;
  private readonly types = new Map<string, FieldType>();

  constructor(
    readonly schema: SchemaSpec,
    readonly view: ViewSpec,
    readonly options: { allowedLatenessMs?: number; derivedColumns?: string[] } = {},
  ) {
    for (const f of schema.fields) this.types.set(f.name, f.type);
    for (const d of options.derivedColumns ?? []) this.types.set(d, 'string');
  }

  private get eventTime(): string {
    return this.schema.eventTime!;
  }

  /** Applies the records whose mask entry is true; late ones are returned, not applied. */
  update(records: readonly Row[], mask?: readonly boolean[]): { applied: number; lateRows: number[] } {
    const lateRows: number[] = [];
    let applied = 0;
    records.forEach((r, i) => {
      if (mask && !mask[i]) return;
      const t = r[this.eventTime] as number;
      const l = this.options.allowedLatenessMs;
      if (l !== undefined && this.watermarkMs !== null && t < this.watermarkMs - l) {
        lateRows.push(i);
        return;
      }
      this.watermarkMs = this.watermarkMs === null ? t : Math.max(this.watermarkMs, t);
      this.events.push(r);
      applied++;
    });
    return { applied, lateRows };
  }

  watermark(): number | null {
    return this.watermarkMs;
  }

  private keyOf(r: Row): Value[] {
    return (this.view.groupBy ?? []).map((g) => r[g] ?? null);
  }

  private windows(granularityMs?: number): Window[] {
    const w = this.view.window;
    const byKey = new Map<string, Window>();
    const add = (start: number, end: number, r: Row) => {
      const key = this.keyOf(r);
      const id = JSON.stringify([start, key.map((v) => (typeof v === 'bigint' ? `${v}n` : v))]);
      let win = byKey.get(id);
      if (!win) byKey.set(id, (win = { start, end, key, events: [] }));
      win.events.push(r);
    };
    if (w.type === 'session') {
      const groups = new Map<string, Row[]>();
      for (const r of this.events) {
        const id = JSON.stringify(this.keyOf(r).map((v) => (typeof v === 'bigint' ? `${v}n` : v)));
        const list = groups.get(id);
        if (list) list.push(r);
        else groups.set(id, [r]);
      }
      const out: Window[] = [];
      for (const evs of groups.values()) {
        const sorted = [...evs].sort((a, b) => (a[this.eventTime] as number) - (b[this.eventTime] as number));
        let current: Row[] = [];
        const flush = () => {
          const first = current[0]![this.eventTime] as number;
          const last = current[current.length - 1]![this.eventTime] as number;
          out.push({ start: first, end: last + w.gapMs, key: this.keyOf(current[0]!), events: current });
        };
        for (const r of sorted) {
          const t = r[this.eventTime] as number;
          if (current.length > 0 && t - (current[current.length - 1]![this.eventTime] as number) >= w.gapMs) {
            flush();
            current = [];
          }
          current.push(r);
        }
        if (current.length > 0) flush();
      }
      return out;
    }
    const size = granularityMs ?? w.sizeMs;
    const slide = granularityMs ?? (w.type === 'hopping' ? w.slideMs : w.sizeMs);
    for (const r of this.events) {
      const t = r[this.eventTime] as number;
      for (let s = t - (((t % slide) + slide) % slide); s > t - size; s -= slide) add(s, s + size, r);
    }
    return [...byKey.values()];
  }

  /** Rows of `window_start`, `window_end`, group fields and measures, like the native query. */
  query(q: ViewQuery = {}): Row[] {
    const from = q.from === undefined ? -Infinity : Number(q.from);
    const to = q.to === undefined ? Infinity : Number(q.to);
    const filters = Object.entries(q.groups ?? {});
    const groupBy = this.view.groupBy ?? [];
    const rows = this.windows(q.granularityMs)
      .filter((w) => w.start >= from && w.start < to)
      .filter((w) =>
        filters.every(([field, text]) => {
          const v = w.key[groupBy.indexOf(field)];
          return v !== null && v !== undefined && String(v) === text;
        }),
      )
      .sort((a, b) => a.start - b.start || a.key.reduce<number>((c, v, i) => c || compareValues(v, b.key[i]!), 0));
    const limited = q.limit === undefined ? rows : rows.slice(0, q.limit);
    return limited.map((w) => {
      const row: Row = { window_start: w.start, window_end: w.end };
      groupBy.forEach((g, i) => (row[g] = w.key[i]!));
      for (const m of this.view.measures) row[measureName(m)] = measure(m, m.field ? this.types.get(m.field) : undefined, w.events);
      return row;
    });
  }
}
