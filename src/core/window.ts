/**
 * Keyed event-time windows as mergeable partial states: the TypeScript face
 * of the native `NativeViewState`. Record batches go in and query results
 * come out as apache-arrow Tables; they cross the boundary as Arrow IPC
 * bytes. The JSON shapes follow `docs/native-contract.md` ("Views").
 */
import { Table, tableFromIPC, vectorFromArray, type Vector } from 'apache-arrow';
import type { NativeViewState } from '../../native/binding.cjs';
import { tableToBuffer } from './arrow.js';
import { arrowType, type FieldType } from './field-type.js';
import { native } from './native.js';

/** A field type of the record schema. */
export type { FieldType } from './field-type.js';

/** The record schema, as the native contract describes it. */
export interface SchemaSpec {
  readonly fields: readonly { readonly name: string; readonly type: FieldType; readonly nullable?: boolean; readonly unit?: 'ms' | 's' }[];
  readonly eventTime?: string;
}

export type WindowSpec =
  | { type: 'tumbling'; sizeMs: number }
  | { type: 'hopping'; sizeMs: number; slideMs: number }
  | { type: 'session'; gapMs: number; alignMs?: number };

export type MeasureOp = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'distinct' | 'quantile';

export interface MeasureSpec {
  /** Output column; defaults to `count` or `<op>_<field>`. */
  name?: string;
  op: MeasureOp;
  field?: string;
  /** HyperLogLog precision for `distinct`, 4–18 (default 12). */
  precision?: number;
  /** The quantile for `quantile`, 0–1. */
  q?: number;
  /** DDSketch relative accuracy for `quantile` (default 0.01). */
  relativeAccuracy?: number;
}

export interface ViewSpec {
  name: string;
  window: WindowSpec;
  groupBy?: readonly string[];
  measures: readonly MeasureSpec[];
  /** Row filter, evaluated by the rule engine, which passes the result as a mask. */
  filter?: string;
}

export interface StateOptions {
  /** Unset: nothing is late (batch). Set: rows older than watermark − lateness are late. */
  allowedLatenessMs?: number;
  /** Derived (tagging) columns the rule set appends after the schema's, as nullable Utf8. */
  derivedColumns?: readonly string[];
}

/** Window selection for `query`: windows whose start lies in `[from, to)`. */
export interface ViewQuery {
  from?: number | Date;
  to?: number | Date;
  /** Equality filters on group fields; values as text, parsed to the field's type. */
  groups?: Record<string, string>;
  /** Rollup bucket for tumbling views: a multiple of the window size. */
  granularityMs?: number;
  limit?: number;
}

export interface ViewUpdate {
  applied: number;
  /** Indices of the rows rejected as late (not applied). */
  lateRows: number[];
}

export interface ViewStats {
  panes: number;
  keys: number;
  approxBytes: number;
  lateRows: number;
  appliedRows: number;
}

/** Row masks: one entry per input row, true (non-zero) to apply it. */
export type RowMask = Uint8Array | readonly boolean[];

/** Epoch ms for the native side: ±Infinity clamp to the safe-integer range. */
function ms(t: number | Date): number {
  const v = t instanceof Date ? t.getTime() : t;
  if (Number.isNaN(v)) throw new RangeError('time must be a number of epoch milliseconds or a valid Date, got NaN');
  return Math.min(Math.max(v, Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
}

/** An unbounded side of a query range is left out. */
function bound(t: number | Date | undefined): number | undefined {
  if (t === undefined) return undefined;
  const v = t instanceof Date ? t.getTime() : t;
  return v === Infinity || v === -Infinity ? undefined : ms(v);
}

function queryJson(q: ViewQuery): string {
  return JSON.stringify({
    from: bound(q.from),
    to: bound(q.to),
    groups: q.groups,
    granularityMs: q.granularityMs,
    limit: q.limit,
  });
}

function maskBuffer(mask: RowMask | undefined): Buffer | undefined {
  if (mask === undefined) return undefined;
  const bytes = mask instanceof Uint8Array ? mask : Uint8Array.from(mask, (b) => (b ? 1 : 0));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function inputBuffer(input: Table | Uint8Array): Buffer {
  if (input instanceof Table) return tableToBuffer(input);
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/** A view's mergeable partial states (see `docs/windows.md`). */
export class ViewState {
  private constructor(
    private readonly inner: NativeViewState,
    readonly schema: SchemaSpec,
    readonly view: ViewSpec,
    readonly options: StateOptions,
  ) {}

  /** An empty state of `view` over records of `schema` (which names the event-time field). */
  static create(schema: SchemaSpec, view: ViewSpec, options: StateOptions = {}): ViewState {
    const inner = new native.NativeViewState(JSON.stringify(schema), JSON.stringify(view), JSON.stringify(options));
    return new ViewState(inner, schema, view, options);
  }

  /** Rebuilds a state from `snapshot()` bytes; fails when the view definition changed. */
  static restore(schema: SchemaSpec, view: ViewSpec, options: StateOptions, bytes: Uint8Array): ViewState {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const inner = native.NativeViewState.restore(JSON.stringify(schema), JSON.stringify(view), JSON.stringify(options), buf);
    return new ViewState(inner, schema, view, options);
  }

  /** Applies records (a Table, or Arrow IPC stream bytes) whose mask entry is true. */
  update(input: Table | Uint8Array, mask?: RowMask): ViewUpdate {
    return this.inner.update(inputBuffer(input), maskBuffer(mask));
  }

  /** `update` on the libuv pool, off the event loop. */
  updateAsync(input: Table | Uint8Array, mask?: RowMask): Promise<ViewUpdate> {
    return this.inner.updateAsync(inputBuffer(input), maskBuffer(mask));
  }

  /** Merges another state of the same view definition into this one. */
  merge(other: ViewState): void {
    this.inner.merge(other.inner);
  }

  /** Drops panes ending at or before `t`; returns how many. */
  evictThrough(t: number | Date): number {
    return this.inner.evictThrough(ms(t));
  }

  /** A new state with copies of the panes starting in `[from, to)`. */
  slice(from: number | Date, to: number | Date): ViewState {
    return new ViewState(this.inner.slice(ms(from), ms(to)), this.schema, this.view, this.options);
  }

  /** Arrow IPC stream bytes with a versioned layout; `restore` reads them back. */
  snapshot(): Buffer {
    return this.inner.snapshot();
  }

  snapshotAsync(): Promise<Buffer> {
    return this.inner.snapshotAsync();
  }

  /** One row per window and group key: `window_start`, `window_end`, group fields, measures. */
  query(q: ViewQuery = {}): Table {
    return tableFromIPC(this.inner.query(queryJson(q)));
  }

  async queryAsync(q: ViewQuery = {}): Promise<Table> {
    return tableFromIPC(await this.inner.queryAsync(queryJson(q)));
  }

  /** Largest event time applied (ms), or null before any. */
  watermark(): number | null {
    return this.inner.watermark();
  }

  /** The pane grid (ms) a batch/realtime boundary must be aligned to. */
  alignmentMs(): number {
    return this.inner.alignmentMs();
  }

  /** Stable hash of the view definition and the field types it reads. */
  definitionHash(): string {
    return this.inner.definitionHash();
  }

  stats(): ViewStats {
    return this.inner.stats();
  }
}

function cell(t: FieldType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (t === 'int64') return typeof v === 'bigint' ? v : BigInt(v as number);
  if (t === 'timestamp') return v instanceof Date ? v.getTime() : v;
  return v;
}

/**
 * Builds the Arrow table a view state reads from plain records (already
 * typed: numbers, strings, booleans, epoch-ms or Date timestamps), with the
 * schema's column types, plus derived columns as Utf8.
 */
export function viewInputTable(schema: SchemaSpec, records: readonly Record<string, unknown>[], derivedColumns: readonly string[] = []): Table {
  const columns: Record<string, Vector> = {};
  const fields: { name: string; type: FieldType }[] = [...schema.fields, ...derivedColumns.map((name) => ({ name, type: 'string' as const }))];
  for (const f of fields) {
    columns[f.name] = vectorFromArray(
      records.map((r) => cell(f.type, r[f.name])),
      arrowType(f.type),
    );
  }
  return new Table(columns);
}
