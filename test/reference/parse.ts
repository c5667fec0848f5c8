/**
 * A plain TypeScript parser for the same contract as the native one
 * (`docs/native-contract.md`, "Parser"): the oracle of the differential
 * tests and the "TypeScript reference" of the benchmark. It favours being
 * obviously right over being fast: CSV is a byte-at-a-time state machine,
 * NDJSON is `JSON.parse` per line plus the type rules.
 */
import type { FieldSpec, ParseOptions, Reject, RejectCode, SchemaSpec } from '../../src/core/parser.js';

/** A row as a plain object: int64 → bigint, timestamp → epoch ms number. */
export type Row = Record<string, string | number | bigint | boolean | null>;

export interface ReferenceResult {
  rows: Row[];
  /** Per row, the line and byte offset where its record started. */
  lines: number[];
  offsets: number[];
  rejects: Reject[];
}

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const RAW_BYTES = 256;
const I64_MAX = 2n ** 63n - 1n;
const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** A problem with one record, before its position is known. */
class Problem {
  constructor(
    readonly code: RejectCode,
    readonly reason: string,
    readonly field?: string,
  ) {}
}

// ignoreBOM keeps a U+FEFF at a record's start: only the stream's first BOM is skipped.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { ignoreBOM: true });

// ---------------------------------------------------------------- values

/** The exact int64 of a JSON-grammar number token, or why there is none. */
export function exactInt(tok: string): bigint | 'fractional' | 'out_of_range' {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(tok)!;
  const neg = m[1] === '-';
  const frac = m[3] ?? '';
  const exp = Math.max(-1e9, Math.min(1e9, Number(m[4] ?? '0')));
  let digits = m[2]! + frac;
  digits = digits.replace(/^0+/, '');
  if (digits === '') return 0n;
  const trimmed = digits.replace(/0+$/, '');
  const scale = exp - frac.length + (digits.length - trimmed.length);
  if (scale < 0) return 'fractional';
  if (trimmed.length + scale > 19) return 'out_of_range';
  const magnitude = BigInt(trimmed) * 10n ** BigInt(scale);
  if (magnitude > (neg ? I64_MAX + 1n : I64_MAX)) return 'out_of_range';
  return neg ? -magnitude : magnitude;
}

/** The widest timestamp accepted: JavaScript's Date range. */
const MAX_EPOCH_MS = 8.64e15;

/** Epoch ms from a number token in `unit` (the schema crate's `parse_epoch`, within the Date range). */
export function epochFromNumber(tok: string, unit: 'ms' | 's'): number | null {
  const mult = unit === 's' ? 1000 : 1;
  if (/^-?[0-9]+$/.test(tok)) {
    const ms = BigInt(tok) * BigInt(mult);
    return ms <= BigInt(MAX_EPOCH_MS) && ms >= -BigInt(MAX_EPOCH_MS) ? Number(ms) : null;
  }
  const ms = Math.floor(Number(tok) * mult) + 0; // + 0: no negative zero
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : null;
}

function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if ([1, 3, 5, 7, 8, 10, 12].includes(m)) return 31;
  if ([4, 6, 9, 11].includes(m)) return 30;
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
}

/**
 * ISO-8601 with an explicit offset → epoch ms (the schema crate's
 * `parse_iso8601`): `YYYY-MM-DD[T| ]HH:MM[:SS][.fff…](Z|±HH[[:]MM])`.
 */
export function parseIso(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = Number(m[6] ?? '0');
  if (month < 1 || month > 12 || day === 0 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? '0');
    if (oh > 23 || om > 59) return null;
    offset = (oh * 60 + om) * (m[9] === '-' ? -1 : 1);
  }
  const secs = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return (secs - offset * 60) * 1000 + millis;
}

function typeError(f: FieldSpec, got: string): Problem {
  return new Problem('type_mismatch', `field '${f.name}': expected ${f.type}, got ${got}`, f.name);
}

/** A value from a number token, per the field's type. */
function fromNumber(f: FieldSpec, tok: string): Row[string] | Problem {
  switch (f.type) {
    case 'int64': {
      const v = exactInt(tok);
      if (v === 'fractional') return typeError(f, `fractional number ${tok}`);
      if (v === 'out_of_range') return new Problem('out_of_range', `field '${f.name}': ${tok} is out of int64 range`, f.name);
      return v;
    }
    case 'float64': {
      const v = Number(tok);
      return Number.isFinite(v) ? v : new Problem('out_of_range', `field '${f.name}': ${tok} is out of float64 range`, f.name);
    }
    case 'timestamp': {
      const ms = epochFromNumber(tok, f.unit ?? 'ms');
      return ms ?? new Problem('out_of_range', `field '${f.name}': epoch ${tok} is out of range`, f.name);
    }
    default:
      return typeError(f, 'number');
  }
}

function timestampFromText(f: FieldSpec, text: string): number | Problem {
  return parseIso(text) ?? new Problem('invalid_timestamp', `field '${f.name}': '${text}' is not ISO-8601 with an offset nor an epoch number`, f.name);
}

/** The first problem in schema order, or the values when there is none. */
function checkFields(schema: SchemaSpec, values: Map<string, Row[string] | Problem>): Row | Problem {
  const row: Row = {};
  for (const f of schema.fields) {
    const v = values.get(f.name) ?? null;
    if (v instanceof Problem) return v;
    if (v === null && f.nullable === false) {
      return new Problem('missing_field', `field '${f.name}' is required`, f.name);
    }
    row[f.name] = v;
  }
  return row;
}

// ---------------------------------------------------------------- NDJSON

/** The top-level members of a valid JSON object text, in document order. */
function topLevelMembers(text: string): { key: string; value: string }[] {
  const members: { key: string; value: string }[] = [];
  let i = text.indexOf('{') + 1;
  const skipString = (at: number): number => {
    let j = at + 1;
    while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  for (;;) {
    while (/\s/.test(text[i] ?? '') || text[i] === ',') i++;
    if (text[i] === '}') return members;
    const keyEnd = skipString(i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = text.indexOf(':', keyEnd) + 1;
    const start = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i = skipString(i);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      i++;
    }
    members.push({ key, value: text.slice(start, i).trim() });
  }
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

function ndjsonValue(f: FieldSpec, raw: string): Row[string] | Problem {
  const v: unknown = JSON.parse(raw);
  if (v === null) return null;
  if (typeof v === 'number') return fromNumber(f, raw);
  if (typeof v === 'string') {
    if (f.type === 'string') {
      return !/\p{Cs}/u.test(v) ? v : new Problem('invalid_utf8', `field '${f.name}': string holds an unpaired surrogate escape`, f.name);
    }
    if (f.type === 'timestamp') return timestampFromText(f, v);
  }
  if (typeof v === 'boolean' && f.type === 'bool') return v;
  return typeError(f, jsonKind(v));
}

function ndjsonRecord(schema: SchemaSpec, text: string): Row | Problem {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return new Problem('malformed_json', `malformed JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return new Problem('not_an_object', 'the record is valid JSON but not an object');
  }
  const names = new Set(schema.fields.map((f) => f.name));
  const values = new Map<string, Row[string] | Problem>();
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  for (const { key, value } of topLevelMembers(text)) {
    if (!names.has(key)) continue;
    if (values.has(key)) return new Problem('duplicate_key', `key '${key}' appears more than once`, key);
    values.set(key, ndjsonValue(byName.get(key)!, value));
  }
  return checkFields(schema, values);
}

// ---------------------------------------------------------------- CSV

type ScanState = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

/** One step of the record-boundary scanner: the state after byte `c`. */
function nextState(state: ScanState, c: number, delim: number): ScanState {
  switch (state) {
    case 'fieldStart':
      return c === QUOTE ? 'quoted' : c === delim ? 'fieldStart' : 'unquoted';
    case 'unquoted':
      return c === delim ? 'fieldStart' : 'unquoted';
    case 'quoted':
      return c === QUOTE ? 'quoteInQuoted' : 'quoted';
    case 'quoteInQuoted':
      return c === QUOTE ? 'quoted' : c === delim ? 'fieldStart' : 'unquoted';
  }
}

interface CsvField {
  text: string;
  quoted: boolean;
}

/** Splits a complete record into fields, or says why it is malformed. */
function splitCsv(rec: string, delim: string): CsvField[] | Problem {
  const fields: CsvField[] = [];
  let i = 0;
  for (;;) {
    if (rec[i] === '"') {
      let text = '';
      let j = i + 1;
      for (;;) {
        const q = rec.indexOf('"', j);
        if (q < 0) return new Problem('malformed_csv', `unterminated quoted field starting at ${i}`);
        text += rec.slice(j, q);
        if (rec[q + 1] === '"') {
          text += '"';
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push({ text, quoted: true });
      if (i === rec.length) return fields;
      if (rec[i] !== delim) return new Problem('malformed_csv', 'unexpected text after a closing quote');
      i++;
    } else {
      let end = rec.indexOf(delim, i);
      if (end < 0) end = rec.length;
      const text = rec.slice(i, end);
      if (text.includes('"')) return new Problem('malformed_csv', 'stray quote in an unquoted field');
      fields.push({ text, quoted: false });
      if (end === rec.length) return fields;
      i = end + 1;
    }
  }
}

function csvValue(f: FieldSpec, cell: CsvField): Row[string] | Problem {
  if (cell.text === '' && !cell.quoted) return null;
  const t = cell.text;
  switch (f.type) {
    case 'string':
      return t;
    case 'bool':
      if (/^true$/i.test(t)) return true;
      if (/^false$/i.test(t)) return false;
      return typeError(f, `'${t}'`);
    case 'timestamp':
      return JSON_NUMBER.test(t) ? fromNumber(f, t) : timestampFromText(f, t);
    default:
      return JSON_NUMBER.test(t) ? fromNumber(f, t) : typeError(f, `'${t}'`);
  }
}

/** Column → schema field mapping from the header (or positional). */
interface Layout {
  columns: (string | null)[];
  duplicate?: string;
}

function csvRecord(schema: SchemaSpec, layout: Layout, cells: CsvField[]): Row | Problem {
  if (layout.duplicate !== undefined) {
    return new Problem('duplicate_key', `column '${layout.duplicate}' appears more than once in the header`, layout.duplicate);
  }
  if (cells.length !== layout.columns.length) {
    return new Problem('field_count', `expected ${layout.columns.length} fields, got ${cells.length}`);
  }
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const values = new Map<string, Row[string] | Problem>();
  layout.columns.forEach((name, k) => {
    if (name !== null) values.set(name, csvValue(byName.get(name)!, cells[k]!));
  });
  return checkFields(schema, values);
}

// ---------------------------------------------------------------- stream

/** Parses a whole input. */
export function referenceParse(schema: SchemaSpec, options: ParseOptions, bytes: Uint8Array): ReferenceResult {
  const csv = options.format === 'csv';
  const delim = options.delimiter ?? ',';
  const maxRecordBytes = options.maxRecordBytes ?? 1 << 20;
  const out: ReferenceResult = { rows: [], lines: [], offsets: [], rejects: [] };

  let layout: Layout | 'awaitingHeader' | { noHeader: number } =
    csv && options.header !== false ? 'awaitingHeader' : { columns: schema.fields.map((f) => f.name) };

  const reject = (line: number, offset: number, rec: Uint8Array, p: Problem): void => {
    const r: Reject = { line, byteOffset: offset, code: p.code, reason: p.reason, raw: lossy.decode(rec.subarray(0, RAW_BYTES)) };
    if (p.field !== undefined) r.field = p.field;
    out.rejects.push(r);
    if (layout === 'awaitingHeader') layout = { noHeader: line };
  };

  const handle = (rec: Uint8Array, line: number, offset: number, unterminated: boolean): void => {
    if (rec.length > maxRecordBytes) {
      return reject(line, offset, rec, new Problem('record_too_large', `record is larger than maxRecordBytes (${maxRecordBytes})`));
    }
    if (unterminated) return reject(line, offset, rec, new Problem('malformed_csv', 'unterminated quoted field'));
    const blank = csv ? rec.length === 0 : rec.every((c) => c === 0x20 || c === 0x09 || c === CR);
    if (blank) return;
    let text: string;
    try {
      text = utf8.decode(rec);
    } catch {
      return reject(line, offset, rec, new Problem('invalid_utf8', 'invalid UTF-8 in the record'));
    }
    let result: Row | Problem;
    if (!csv) {
      result = ndjsonRecord(schema, text);
    } else if (layout === 'awaitingHeader') {
      const cells = splitCsv(text, delim);
      if (cells instanceof Problem) return reject(line, offset, rec, cells);
      const names = new Set(schema.fields.map((f) => f.name));
      const seen = new Set<string>();
      const header: Layout = { columns: [] };
      for (const { text: name } of cells) {
        const known = names.has(name) && !seen.has(name);
        if (names.has(name) && seen.has(name)) header.duplicate ??= name;
        seen.add(name);
        header.columns.push(known ? name : null);
      }
      layout = header;
      return;
    } else if ('noHeader' in layout) {
      result = new Problem('malformed_csv', `no usable header: the header record (line ${layout.noHeader}) was rejected`);
    } else {
      const cells = splitCsv(text, delim);
      result = cells instanceof Problem ? cells : csvRecord(schema, layout, cells);
    }
    if (result instanceof Problem) return reject(line, offset, rec, result);
    out.rows.push(result);
    out.lines.push(line);
    out.offsets.push(offset);
  };

  const delimByte = delim.charCodeAt(0);
  let start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 1;
  while (start < bytes.length) {
    // Find the record's LF: any LF for NDJSON, one outside quotes for CSV.
    let end = start;
    let state: ScanState = 'fieldStart';
    while (end < bytes.length) {
      const c = bytes[end]!;
      if (c === LF && state !== 'quoted') break;
      if (csv) state = nextState(state, c, delimByte);
      end++;
    }
    let rec = bytes.subarray(start, end);
    const newlines = rec.filter((c) => c === LF).length;
    if (rec[rec.length - 1] === CR) rec = rec.subarray(0, rec.length - 1);
    handle(rec, line, start, end === bytes.length && state === 'quoted');
    line += 1 + newlines;
    start = end + 1;
  }
  return out;
}
