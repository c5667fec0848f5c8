/**
 * The JSON specs the native core takes (docs/native-contract.md), built from
 * a validated config: durations are already milliseconds, defaults are
 * explicit, and keys the core does not know are never sent.
 */
import type { RulesSpec } from '../core/rules.js';
import type { Config } from './config.js';
import type { Check, Derivation, Rules } from './rules.js';
import type { FieldType } from './schema.js';
import type { Measure, View } from './views.js';

export interface NativeFieldSpec {
  name: string;
  type: FieldType;
  nullable: boolean;
  unit?: 'ms' | 's';
}

export interface NativeSchemaSpec {
  fields: NativeFieldSpec[];
  eventTime: string;
}

export interface NativeParseOptions {
  format: 'csv' | 'ndjson';
  delimiter: string;
  header: boolean;
  maxRecordBytes: number;
  batchSize: number;
}

/** `Omit` applied to each member of the union, so every check keeps its own shape. */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type NativeCheckSpec = OmitEach<Check, 'kind'>;

export interface NativeRulesSpec {
  onError: Rules['onError'];
  checks: NativeCheckSpec[];
  derive: Derivation[];
}

export type NativeWindowSpec =
  | { type: 'tumbling'; sizeMs: number }
  | { type: 'hopping'; sizeMs: number; slideMs: number }
  | { type: 'session'; gapMs: number; alignMs?: number };

export interface NativeMeasureSpec {
  name: string;
  op: Measure['op'];
  field?: string;
  precision?: number;
  q?: number;
  relativeAccuracy?: number;
}

export interface NativeViewSpec {
  name: string;
  window: NativeWindowSpec;
  groupBy: string[];
  measures: NativeMeasureSpec[];
  filter?: string;
}

export interface NativeSpecs {
  schema: NativeSchemaSpec;
  /** Parser options for the batch layer's objects. */
  batchParse: NativeParseOptions;
  /** Parser options for stream messages (one record each, so CSV has no header); absent without a speed section. */
  speedParse: NativeParseOptions | undefined;
  rules: NativeRulesSpec & RulesSpec;
  views: NativeViewSpec[];
}

/** Rows per Arrow record batch the parser emits. */
export const PARSE_BATCH_ROWS = 65_536;

/** Session fragments are cut at this grid unless a view sets `align`. */
export const DEFAULT_SESSION_ALIGN_MS = 60_000;

/** Copies only the keys whose value is defined, so specs carry no `undefined` holes. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function checkSpec(check: Check): NativeCheckSpec {
  const { kind: _kind, ...rest } = check;
  return defined({ ...rest, range: rest.range && defined(rest.range) });
}

function windowSpec(window: View['window']): NativeWindowSpec {
  switch (window.type) {
    case 'tumbling':
      return { type: 'tumbling', sizeMs: window.size };
    case 'hopping':
      return { type: 'hopping', sizeMs: window.size, slideMs: window.slide };
    case 'session':
      return defined({ type: 'session', gapMs: window.gap, alignMs: window.align });
  }
}

export function viewSpec(view: View): NativeViewSpec {
  return defined({
    name: view.name,
    window: windowSpec(view.window),
    groupBy: [...view.groupBy],
    measures: view.measures.map((m) => defined({ name: m.name, op: m.op, field: m.field, precision: m.precision, q: m.q, relativeAccuracy: m.relativeAccuracy })),
    filter: view.filter,
  });
}

/** The specs for the native core: schema, parser options per layer, rules and views. */
export function toNativeSpecs(config: Config): NativeSpecs {
  const { batch, speed } = config;
  return {
    schema: {
      fields: config.schema.fields.map((f) => defined({ name: f.name, type: f.type, nullable: f.nullable, unit: f.unit })),
      eventTime: config.schema.eventTime,
    },
    batchParse: {
      format: batch.format,
      delimiter: batch.csv.delimiter,
      header: batch.csv.header,
      maxRecordBytes: batch.maxRecordBytes,
      batchSize: PARSE_BATCH_ROWS,
    },
    speedParse: speed && {
      format: speed.format,
      delimiter: batch.csv.delimiter,
      header: false,
      maxRecordBytes: batch.maxRecordBytes,
      batchSize: PARSE_BATCH_ROWS,
    },
    // The zod schema guarantees each check has exactly one kind with its
    // field, which the core's discriminated `RulesSpec` type spells out.
    rules: {
      onError: config.rules.onError,
      checks: config.rules.checks.map(checkSpec),
      derive: config.rules.derive.map((d) => defined({ column: d.column, default: d.default, cases: d.cases.map((c) => ({ when: c.when, set: c.set })) })),
    } as NativeRulesSpec & RulesSpec,
    views: config.views.map(viewSpec),
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The view's alignment: its panes never straddle a multiple of it, so the
 * batch coverage end T is rounded down to it (tumbling: size; hopping:
 * gcd(size, slide); session: the fragment grid).
 */
export function viewAlignmentMs(view: View): number {
  switch (view.window.type) {
    case 'tumbling':
      return view.window.size;
    case 'hopping':
      return gcd(view.window.size, view.window.slide);
    case 'session':
      return view.window.align ?? DEFAULT_SESSION_ALIGN_MS;
  }
}
