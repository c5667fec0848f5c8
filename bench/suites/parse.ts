/**
 * Parse throughput: the 8-column sensor dataset as NDJSON and CSV, from
 * bytes to typed in-memory data, on one core. The native parser is fed
 * 1 MiB chunks (as the batch layer streams S3 objects) and returns Arrow
 * Tables; the peers parse the same bytes in one go.
 *
 * Also, on the same bytes in the same run:
 * - the Rust parser beside arrow-json's `Decoder` (`cargo bench -p
 *   pulse-parse`, no napi), the goal being ≥ 1.0×;
 * - the napi boundary: with 64k-row batches, the call's crossing plus
 *   `tableFromIPC` against the compute the core reports for the call;
 * - validation: parse-only against parse + null/range/enum checks, and each
 *   regex check's cost on its own, all inside the native pipeline.
 */
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { tableFromIPC, tableFromJSON } from 'apache-arrow';
import { parse as csvParse } from 'csv-parse/sync';
import type { BenchContext, Measurement, Suite } from '../lib/harness.js';
import { measure, summarise, turn } from '../lib/harness.js';
import { benchSchema, dataset, datasetFile, STATUSES } from '../lib/data.js';
import { native as binding } from '../../src/core/native.js';
import { ChunkedParser, type ParseOptions, type SchemaSpec } from '../../src/core/parser.js';
import { Pipeline } from '../../src/core/pipeline.js';
import type { RuleCheck, RulesSpec } from '../../src/core/rules.js';
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

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Rust-only comparison: `cargo bench -p pulse-parse` on this run's files, one JSON line back. */
function rustParse(ctx: BenchContext): Measurement[] {
  const runs = ctx.quick ? 5 : 7;
  process.stderr.write('  cargo bench -p pulse-parse (builds once, thin LTO)…\n');
  const run = spawnSync('cargo', ['bench', '-q', '-p', 'pulse-parse', '--bench', 'throughput'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 900_000,
    env: {
      ...process.env,
      PULSE_BENCH_JSON: '1',
      PULSE_BENCH_RUNS: String(runs),
      PULSE_BENCH_NDJSON: datasetFile('ndjson', ctx.rows),
      PULSE_BENCH_CSV: datasetFile('csv', ctx.rows),
    },
  });
  const line = run.stdout?.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) throw new Error(`cargo bench -p pulse-parse failed: ${run.stderr?.slice(-2000)}`);
  const r = JSON.parse(line) as { rows: number; ndjsonBytes: number; csvBytes: number; pulseNdjsonMs: number; arrowJsonMs: number; pulseCsvMs: number };
  const nd = { bytes: r.ndjsonBytes, rows: r.rows };
  const caseName = 'ndjson parse, Rust only';
  const base = 'pulse-parse NDJSON';
  return [
    summarise('parse', caseName, base, base, [r.pulseNdjsonMs], nd, `median of ${runs} runs inside one binary; 1 MiB chunks → RecordBatches`),
    summarise('parse', caseName, 'arrow-json Decoder', base, [r.arrowJsonMs], nd, 'arrow-json 60, same schema and bytes, 64k-row batches'),
    summarise('parse', 'csv parse, Rust only', 'pulse-parse CSV', 'pulse-parse CSV', [r.pulseCsvMs], { bytes: r.csvBytes, rows: r.rows }, `median of ${runs} runs`),
  ].map((m) => ({ ...m, samples: runs, rme: 0 }));
}

/** Splits NDJSON bytes into pieces of exactly `rows` lines. */
function rowBatches(bytes: Buffer, rows: number): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  let at = 0;
  let n = 0;
  while (at < bytes.length) {
    const nl = bytes.indexOf(10, at);
    at = nl < 0 ? bytes.length : nl + 1;
    if (++n === rows || at === bytes.length) {
      out.push(bytes.subarray(start, at));
      start = at;
      n = 0;
    }
  }
  return out;
}

/**
 * The napi boundary at 64k-row batches: each call's wall time seen from JS
 * (argument in, IPC buffer and report out) plus `tableFromIPC`, against the
 * compute the core measured inside the same calls. V8's garbage-collection
 * pauses inside the timed calls are reported apart: the IPC buffers are
 * external memory, and their volume, not the crossing itself, is what
 * starts most collections.
 */
async function boundary(ctx: BenchContext, nd: Buffer): Promise<Measurement[]> {
  const batches = rowBatches(nd, 65_536);
  const runs = ctx.quick ? 7 : 15;
  const compute: number[] = [];
  const observed: number[] = [];
  const spans: [number, number][] = [];
  const pauses: [number, number][] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([e.startTime, e.startTime + e.duration]);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  for (let r = -2; r < runs; r++) {
    const parser = new binding.NativeParser(JSON.stringify(schema), JSON.stringify({ format: 'ndjson', batchSize: 65_536 }));
    let inside = 0;
    let seen = 0;
    let rows = 0;
    for (const b of batches) {
      const t0 = performance.now();
      const out = parser.push(b);
      rows += tableFromIPC(out.batches).numRows;
      // As a stream between chunks (and like `measure`): finalizers run.
      await turn();
      const t1 = performance.now();
      seen += t1 - t0;
      inside += out.computeNs / 1e6;
      if (r >= 0) spans.push([t0, t1]);
    }
    expectRows('boundary', rows + parser.finish().rows, ctx.rows);
    if (r >= 0) {
      compute.push(inside);
      observed.push(seen);
    }
  }
  // Entries arrive on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 50));
  gcObserver.disconnect();
  const overlap = ([a, b]: [number, number], [x, y]: [number, number]) => Math.max(0, Math.min(b, y) - Math.max(a, x));
  let gcMs = 0;
  for (const p of pauses) for (const s of spans) gcMs += overlap(p, s);
  gcMs /= runs;
  const input = { bytes: nd.length, rows: ctx.rows };
  const caseName = `napi boundary, ${batches.length} × 64k-row batches`;
  const c = summarise('parse', caseName, 'Rust compute (inside the calls)', 'Rust compute (inside the calls)', compute, input, 'parse + IPC encode, as the core times it');
  const o = summarise('parse', caseName, 'JS observed: call + tableFromIPC', c.subject, observed, input);
  const extra = o.medianMs / c.medianMs - 1;
  const gcShare = gcMs / c.medianMs;
  o.metrics = { boundaryShare: extra, gcShare };
  o.note =
    `crossing + tableFromIPC = ${(extra * 100).toFixed(1)} % of the Rust compute (${((o.medianMs - c.medianMs) / batches.length * 1000).toFixed(0)} µs per call), ` +
    `of which V8 GC pauses ${(gcShare * 100).toFixed(1)} % (${gcMs.toFixed(1)} ms per run)`;
  return [c, o];
}

const basicChecks: RuleCheck[] = [
  { id: 'device_required', field: 'device', required: true },
  { id: 'temperature_range', field: 'temperature', range: { min: -50, max: 150 } },
  { id: 'humidity_range', field: 'humidity', range: { min: 0, max: 100 } },
  { id: 'battery_range', field: 'battery', range: { min: 0, max: 100 } },
  { id: 'status_known', field: 'status', in: [...STATUSES] },
  { id: 'site_known', field: 'site', in: Array.from({ length: 20 }, (_, k) => `site-${k}`) },
];

const regexChecks: RuleCheck[] = [
  { id: 'device_shape', field: 'device', regex: '^dev-[0-9]+$' },
  { id: 'user_shape', field: 'user', regex: '^u[0-9]{1,5}$', severity: 'warn' },
  { id: 'site_shape', field: 'site', regex: 'site-(1?[0-9])$' },
];

/** Parse (+ rules) in the fused pipeline with no views: no IPC, no JS objects. */
function pipelineRun(bytes: Buffer, rules: RulesSpec | undefined, want: number): () => number {
  return () => {
    const p = Pipeline.create({ schema, parse: { format: 'ndjson', batchSize: 65_536 }, ...(rules ? { rules } : {}), views: [] });
    const records = p.push(bytes).records + p.finish().records;
    p.close();
    if (records !== want) throw new Error(`validation bench: ${records} records, expected ${want}`);
    return records;
  };
}

/** What validation adds to parsing: the null/range/enum checks, then each regex check alone. */
async function validation(ctx: BenchContext, nd: Buffer): Promise<Measurement[]> {
  const input = { bytes: nd.length, rows: ctx.rows };
  const parseOnly = 'parse only (native pipeline, no views)';
  const subjects = [
    { name: parseOnly, fn: pipelineRun(nd, undefined, ctx.rows) },
    { name: `+ ${basicChecks.length} null/range/enum checks`, fn: pipelineRun(nd, { checks: basicChecks }, ctx.rows) },
    ...regexChecks.map((c) => ({ name: `+ regex ${c.id} (${(c as { regex: string }).regex})`, fn: pipelineRun(nd, { checks: [c] }, ctx.rows) })),
  ];
  const out = await measure(ctx, 'parse', 'validation cost (ndjson)', input, subjects);
  const base = out[0]!.medianMs;
  for (const m of out.slice(1)) {
    const cost = m.medianMs / base - 1;
    m.metrics = { costShare: cost };
    m.note = `${(cost * 100).toFixed(1)} % over parse only (${(((m.medianMs - base) / ctx.rows) * 1e6).toFixed(0)} ns per row)`;
  }
  return out;
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
    ...(await measure(ctx, 'parse', 'ndjson parse', { bytes: nd.length, rows: ctx.rows }, [
      { name: 'native (pulse-parse)', fn: () => native(ndOpts, nd), note: '1 MiB chunks → Arrow Tables' },
      { name: 'TypeScript reference', fn: () => referenceParse(schema, ndOpts, nd), note: 'same contract, rows as objects' },
      { name: 'JSON.parse loop', fn: () => jsonLines(nd), note: 'untyped objects, no checks' },
      { name: 'apache-arrow tableFromJSON', fn: () => tableFromJSON(jsonLines(nd) as Record<string, unknown>[]), note: 'JSON.parse + inferred types' },
    ])),
  );
  out.push(
    ...(await measure(ctx, 'parse', 'csv parse', { bytes: csv.length, rows: ctx.rows }, [
      { name: 'native (pulse-parse)', fn: () => native(csvOpts, csv), note: '1 MiB chunks → Arrow Tables' },
      { name: 'TypeScript reference', fn: () => referenceParse(schema, csvOpts, csv), note: 'same contract, rows as objects' },
      { name: 'csv-parse (sync, cast)', fn: () => csvRecords(csv), note: 'objects, numbers cast' },
      { name: 'apache-arrow tableFromJSON', fn: () => tableFromJSON(csvRecords(csv)), note: 'csv-parse + inferred types' },
    ])),
  );
  out.push(...rustParse(ctx), ...(await boundary(ctx, nd)), ...(await validation(ctx, nd)));
  return out;
}

const suite: Suite = { name: 'parse', run };
export default suite;
