/**
 * The chunked CSV / NDJSON parser of the native core, as apache-arrow
 * Tables. Bytes go in as chunks of any size (a record may span chunks);
 * each call returns the rows it completed and the records it rejected.
 *
 * Column types come out of apache-arrow as: `string` → string, `int64` →
 * bigint, `float64` → number, `bool` → boolean, `timestamp` → number
 * (milliseconds since the Unix epoch, UTC); a null is `null`.
 *
 * The contract is `docs/native-contract.md` ("Parser"); `docs/parser.md`
 * explains it for users.
 */
import { tableFromIPC, type Table } from 'apache-arrow';
import type { FieldType } from './field-type.js';
import { native } from './native.js';
import type { NativeParser, ParseOutput } from '../../native/binding.cjs';

export type { FieldType } from './field-type.js';

/** One field of the record schema. */
export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Defaults to true. */
  nullable?: boolean;
  /** Unit of bare numbers in a timestamp field; `ms` by default. */
  unit?: 'ms' | 's';
}

/** The record schema, as the config module produces it. */
export interface SchemaSpec {
  fields: FieldSpec[];
  /** The event-time field: a non-nullable timestamp. */
  eventTime?: string;
}

export interface ParseOptions {
  format: 'csv' | 'ndjson';
  /** CSV field separator, one ASCII character; `,` by default. */
  delimiter?: string;
  /** CSV: the first record names the columns; true by default. */
  header?: boolean;
  /** Longest record in bytes, terminator excluded; 1 MiB by default. */
  maxRecordBytes?: number;
  /** Rows per record batch; 65 536 by default. */
  batchSize?: number;
}

/** Every reason a record can be refused. */
export const REJECT_CODES = [
  'malformed_json',
  'not_an_object',
  'duplicate_key',
  'malformed_csv',
  'field_count',
  'missing_field',
  'type_mismatch',
  'out_of_range',
  'invalid_timestamp',
  'invalid_utf8',
  'record_too_large',
] as const;

export type RejectCode = (typeof REJECT_CODES)[number];

/** A refused record: where it started and why. */
export interface Reject {
  /** 1-based line where the record starts. */
  line: number;
  /** Offset of the record's first byte in the stream. */
  byteOffset: number;
  /** The schema field at fault, for field-level codes. */
  field?: string;
  code: RejectCode;
  reason: string;
  /** The record's first 256 bytes (invalid UTF-8 replaced). */
  raw: string;
}

export interface ParseResult {
  /** The rows completed by this call (possibly none, always with the schema). */
  table: Table;
  rows: number;
  rejects: Reject[];
  /** Nanoseconds the native core spent on the call (parse + IPC encoding). */
  computeNs: number;
}

export interface ParseStats {
  /** Records read: rows + rejects (a good CSV header is not a record). */
  records: number;
  rows: number;
  rejects: number;
  bytes: number;
}

function toResult(out: ParseOutput): ParseResult {
  return {
    // tableFromIPC reads column data as views over the Buffer: no copy.
    table: tableFromIPC(out.batches),
    rows: out.rows,
    rejects: out.rejects as Reject[],
    computeNs: out.computeNs,
  };
}

/** A Buffer that shares the bytes' memory (Buffer.from(Uint8Array) would copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One stream of CSV or NDJSON bytes being parsed. Async calls are queued,
 * so chunks are parsed in call order even when not awaited one by one.
 */
export class ChunkedParser {
  /** The last queued async call; the next one starts after it settles. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  private constructor(private readonly inner: NativeParser) {}

  private enqueue(call: () => Promise<ParseOutput>): Promise<ParseResult> {
    this.pending++;
    const next = this.queue.then(call).then(toResult);
    this.queue = next.catch(() => undefined).finally(() => this.pending--);
    return next;
  }

  private sync(call: () => ParseOutput): ParseResult {
    if (this.pending > 0) throw new Error('ChunkedParser: an async call is still running; await it before a sync call');
    return toResult(call());
  }

  /** Throws when the schema or the options are invalid (never for bad data). */
  static create(schema: SchemaSpec, options: ParseOptions): ChunkedParser {
    return new ChunkedParser(new native.NativeParser(JSON.stringify(schema), JSON.stringify(options)));
  }

  /** Parses a chunk on the calling thread; for small chunks. */
  push(chunk: Uint8Array): ParseResult {
    return this.sync(() => this.inner.push(asBuffer(chunk)));
  }

  /** Parses a chunk off the event loop. Do not modify `chunk` until it settles. */
  pushAsync(chunk: Uint8Array): Promise<ParseResult> {
    return this.enqueue(() => this.inner.pushAsync(asBuffer(chunk)));
  }

  /** End of input: parses a last record without a newline. */
  finish(): ParseResult {
    return this.sync(() => this.inner.finish());
  }

  finishAsync(): Promise<ParseResult> {
    return this.enqueue(() => this.inner.finishAsync());
  }

  /** Starts a new stream (a new object); an unfinished record is finished first. */
  reset(): ParseResult {
    return this.sync(() => this.inner.reset());
  }

  stats(): ParseStats {
    return this.inner.stats();
  }
}

/** Parses a whole input at once. */
export function parseBytes(schema: SchemaSpec, options: ParseOptions, bytes: Uint8Array): ParseResult {
  const parser = ChunkedParser.create(schema, options);
  const body = parser.push(bytes);
  const tail = parser.finish();
  return {
    table: tail.rows === 0 ? body.table : body.table.concat(tail.table),
    rows: body.rows + tail.rows,
    rejects: [...body.rejects, ...tail.rejects],
    computeNs: body.computeNs + tail.computeNs,
  };
}
