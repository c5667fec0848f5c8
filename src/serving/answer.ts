/**
 * Turning the finalised rows of a query into what a client receives: JSON
 * rows (ISO-8601 times, numbers, a `complete` flag per window) or the same
 * rows as an Arrow IPC stream. Encoding happens once per query and version
 * (see `ServedView.memo`); only the freshness block is fresh per request.
 */
import { Bool, DataType, Table, tableToIPC, vectorFromArray, type Utf8, type Vector } from 'apache-arrow';
import { utf8Values } from '../core/arrow.js';
import { isoTime } from './time.js';

/** The media type of Arrow IPC streams. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** The JSON text of each value of a column: column-wise, over the typed arrays, not per cell through `Vector.get`. */
function jsonColumn(vector: Vector, type: DataType): string[] {
  const n = vector.length;
  const out = new Array<string>(n);
  const valid = vector.nullCount > 0 ? (i: number) => vector.isValid(i) : () => true;
  const values = (DataType.isUtf8(type) ? utf8Values(vector as Vector<Utf8>) : vector.toArray()) as ArrayLike<unknown>;
  if (DataType.isTimestamp(type) || DataType.isDate(type)) {
    for (let i = 0; i < n; i++) {
      const ms = Number(values[i]);
      out[i] = valid(i) ? `"${isoTime(ms)}"` : 'null';
    }
  } else if (DataType.isInt(type)) {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!valid(i)) out[i] = 'null';
      else if (typeof v === 'bigint') out[i] = v >= MIN_SAFE && v <= MAX_SAFE ? String(Number(v)) : `"${v.toString()}"`;
      else out[i] = String(v);
    }
  } else if (DataType.isFloat(type)) {
    for (let i = 0; i < n; i++) {
      const v = values[i] as number;
      out[i] = valid(i) && Number.isFinite(v) ? String(v) : 'null';
    }
  } else if (DataType.isBool(type)) {
    for (let i = 0; i < n; i++) out[i] = valid(i) ? String(values[i] === true) : 'null';
  } else {
    // Strings (group keys repeat, so each distinct one is escaped once) and anything else.
    const escaped = new Map<unknown, string>();
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!valid(i) || v === null || v === undefined) {
        out[i] = 'null';
        continue;
      }
      let text = escaped.get(v);
      if (text === undefined) {
        text = JSON.stringify(typeof v === 'bigint' ? v.toString() : v) ?? 'null';
        escaped.set(v, text);
      }
      out[i] = text;
    }
  }
  return out;
}

/** The window end of each row of a table, ms. */
function windowEnds(table: Table): Float64Array {
  const column = table.getChild('window_end') as Vector | null;
  const out = new Float64Array(table.numRows);
  if (column === null) return out;
  const values = column.toArray() as ArrayLike<number | bigint>;
  for (let i = 0; i < table.numRows; i++) out[i] = Number(values[i]);
  return out;
}

/** True where the window ended at or before `completeThrough`. */
export function completeFlags(table: Table, completeThrough: number | null): boolean[] {
  const ends = windowEnds(table);
  return Array.from(ends, (end) => completeThrough !== null && end <= completeThrough);
}

/**
 * The rows of the tables as JSON text (an array of objects), each with its
 * `complete` flag. Built as text column by column: an answer of a day of
 * 1-minute windows is 1 440 rows, and per-cell object building dominated.
 */
export function rowsJson(tables: readonly Table[], completeThrough: number | null): { json: string; count: number } {
  const rows: string[] = [];
  for (const table of tables) {
    const fields = table.schema.fields;
    const keys = fields.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`);
    const columns = fields.map((f) => jsonColumn(table.getChild(f.name) as Vector, f.type));
    const complete = completeFlags(table, completeThrough);
    for (let r = 0; r < table.numRows; r++) {
      let row = '';
      for (let c = 0; c < columns.length; c++) row += `${keys[c] as string}${(columns[c] as string[])[r] as string}`;
      rows.push(`${row},"complete":${complete[r] ? 'true' : 'false'}}`);
    }
  }
  return { json: `[${rows.join(',')}]`, count: rows.length };
}

/** The rows of the tables (same schema) as one Arrow IPC stream, with a Bool `complete` column appended. */
export function rowsArrow(tables: readonly Table[], completeThrough: number | null): Buffer {
  const first = tables[0];
  if (first === undefined) throw new Error('rowsArrow needs at least one table (an empty one carries the schema)');
  const table = new Table(first.schema, tables.flatMap((t) => t.batches));
  const flags = tables.flatMap((t) => completeFlags(t, completeThrough));
  const withComplete = table.assign(new Table({ complete: vectorFromArray(flags, new Bool()) }));
  const bytes = tableToIPC(withComplete, 'stream');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
