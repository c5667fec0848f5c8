/**
 * Parse throughput: the 8-column sensor dataset as NDJSON and CSV, from
 * bytes to typed in-memory data, on one core. The native parser is fed
 * 1 MiB chunks (as the batch layer streams S3 objects) and returns Arrow
 * Tables; the peers parse the same bytes in one go.
 */
import { tableFromJSON } from 'apache-arrow';
import { parse as csvParse } from 'csv-parse/sync';
import type { BenchContext, Measurement, Suite } from '../lib/harness.js';
import { measure } from '../lib/harness.js';
import { benchSchema, dataset } from '../lib/data.js';
import { ChunkedParser, type ParseOptions, type SchemaSpec } from '../../src/core/parser.js';
import { referenceParse } from '../../test/reference/parse.js';

const schema = benchSchema as unknown as SchemaSpec;
const CHUNK = 1 << 20;

/** Native: chunked pushes, every call's rows decoded as an apache-arrow Table. */
function native(options: ParseOptions, bytes: Buffer): number {
  const parser = ChunkedParser.create(schema, options);
  let rows = 0;
  for (let at = 0; at < bytes.length; at += CHUNK) {
    rows += parser.push(bytes.subarray(at, at + CHUNK)).table.numRows;
  }
  rows += parser.finish().table.numRows;
  return rows;
}

function jsonLines(bytes: Buffer): unknown[] {
  const lines = bytes.toString('utf8').split('\n');
  const out: unknown[] = [];
  for (const line of lines) if (line) out.push(JSON.parse(line));
  return out;
}

function csvRecords(bytes: Buffer): Record<string, unknown>[] {
  return csvParse(bytes, { columns: true, cast: true, skip_empty_lines: true }) as Record<string, unknown>[];
}

function expectRows(name: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${name}: parsed ${got} rows, expected ${want}`);
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const out: Measurement[] = [];
  const nd = dataset('ndjson', ctx.rows);
  const csv = dataset('csv', ctx.rows);
  const ndOpts: ParseOptions = { format: 'ndjson' };
  const csvOpts: ParseOptions = { format: 'csv' };

  // Every subject must read every row before it is timed.
  expectRows('native ndjson', native(ndOpts, nd), ctx.rows);
  expectRows('native csv', native(csvOpts, csv), ctx.rows);
  expectRows('reference ndjson', referenceParse(schema, ndOpts, nd).rows.length, ctx.rows);
  expectRows('reference csv', referenceParse(schema, csvOpts, csv).rows.length, ctx.rows);
  expectRows('csv-parse', csvRecords(csv).length, ctx.rows);

  out.push(
    ...measure(ctx, 'parse', 'ndjson parse', { bytes: nd.length, rows: ctx.rows }, [
      { name: 'native (pulse-parse)', fn: () => native(ndOpts, nd), note: '1 MiB chunks → Arrow Tables' },
      { name: 'TypeScript reference', fn: () => referenceParse(schema, ndOpts, nd), note: 'same contract, rows as objects' },
      { name: 'JSON.parse loop', fn: () => jsonLines(nd), note: 'untyped objects, no checks' },
      { name: 'apache-arrow tableFromJSON', fn: () => tableFromJSON(jsonLines(nd) as Record<string, unknown>[]), note: 'JSON.parse + inferred types' },
    ]),
  );
  out.push(
    ...measure(ctx, 'parse', 'csv parse', { bytes: csv.length, rows: ctx.rows }, [
      { name: 'native (pulse-parse)', fn: () => native(csvOpts, csv), note: '1 MiB chunks → Arrow Tables' },
      { name: 'TypeScript reference', fn: () => referenceParse(schema, csvOpts, csv), note: 'same contract, rows as objects' },
      { name: 'csv-parse (sync, cast)', fn: () => csvRecords(csv), note: 'objects, numbers cast' },
      { name: 'apache-arrow tableFromJSON', fn: () => tableFromJSON(csvRecords(csv)), note: 'csv-parse + inferred types' },
    ]),
  );
  return out;
}

const suite: Suite = { name: 'parse', run };
export default suite;
