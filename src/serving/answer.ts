/**
 * Turning the finalised rows of a query into what a client receives: JSON
 * rows (ISO-8601 times, numbers, a `complete` flag per window) or the same
 * rows as an Arrow IPC stream. Encoding happens once per query and version
 * (see `ServedView.memo`); only the freshness block is fresh per request.
 */
import { Bool, DataType, Table, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';

/** The media type of Arrow IPC streams. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

/** Integers past 2^53 lose digits as JSON numbers; such values are sent as decimal strings. */
function jsonInteger(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function isoTime(ms: number | bigint): string {
  return new Date(Number(ms)).toISOString();
}

type Cell = (v: unknown) => unknown;

/** How one column's values become JSON values. */
function jsonCell(type: DataType): Cell {
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return (v) => (v === null || v === undefined ? null : isoTime(v as number));
  if (DataType.isInt(type)) return (v) => (v === null || v === undefined ? null : typeof v === 'bigint' ? jsonInteger(v) : v);
  if (DataType.isFloat(type)) return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return (v) => (v === undefined ? null : v);
}

/** The window end of each row of a table, ms. */
function windowEnds(table: Table): Float64Array {
  const column = table.getChild('window_end') as Vector | null;
  const out = new Float64Array(table.numRows);
  if (column === null) return out;
  for (let i = 0; i < table.numRows; i++) out[i] = Number(column.get(i));
  return out;
}

/** True where the window ended at or before `completeThrough`. */
export function completeFlags(table: Table, completeThrough: number | null): boolean[] {
  const ends = windowEnds(table);
  return Array.from(ends, (end) => completeThrough !== null && end <= completeThrough);
}

/** The rows of the tables as JSON text (an array), each with its `complete` flag. */
export function rowsJson(tables: readonly Table[], completeThrough: number | null): { json: string; count: number } {
  const rows: Record<string, unknown>[] = [];
  for (const table of tables) {
    const columns = table.schema.fields.map((f) => ({ name: f.name, cell: jsonCell(f.type), vector: table.getChild(f.name) as Vector }));
    const complete = completeFlags(table, completeThrough);
    for (let i = 0; i < table.numRows; i++) {
      const row: Record<string, unknown> = {};
      for (const c of columns) row[c.name] = c.cell(c.vector.get(i));
      row.complete = complete[i];
      rows.push(row);
    }
  }
  return { json: JSON.stringify(rows), count: rows.length };
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
