/**
 * Fused parse → rules → tumbling-window aggregate, native vs its peers on
 * the same bytes: the TypeScript reference, JSON.parse / split + a plain-JS
 * aggregation loop, DuckDB with one thread, and nodejs-polars with one
 * thread; beside them the physical ceiling, a single-thread sequential read
 * of the same file. The full run repeats the case at 10M rows (without the
 * TypeScript reference, which would take most of the run's budget there).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { Pipeline, type PipelineSpec } from '../../src/core/pipeline.js';
import type { RulesSpec } from '../../src/core/rules.js';
import type { ViewSpec } from '../../src/core/window.js';
import { benchSchema, dataset, datasetFile, STATUSES } from '../lib/data.js';
import { referenceParse } from '../../test/reference/parse.js';
import { ReferenceRuleSet } from '../../test/reference/rules.js';
import { ReferenceView, type Row } from '../../test/reference/aggregate.js';
import { measure, measureAsync, measureRuns, type BenchContext, type Measurement, type Subject, type Suite } from '../lib/harness.js';

const RULES: RulesSpec = {
  onError: 'skip',
  checks: [
    { id: 'device_required', field: 'device', required: true },
    { id: 'temperature_range', field: 'temperature', range: { min: -50, max: 150 } },
    { id: 'battery_range', field: 'battery', range: { min: 0, max: 100 } },
    { id: 'status_known', field: 'status', in: [...STATUSES] },
  ],
  derive: [],
};

const VIEW: ViewSpec = {
  name: 'device_1m',
  window: { type: 'tumbling', sizeMs: 60_000 },
  groupBy: ['device'],
  measures: [
    { name: 'n', op: 'count' },
    { name: 'sum_t', op: 'sum', field: 'temperature' },
    { name: 'avg_t', op: 'avg', field: 'temperature' },
    { name: 'max_t', op: 'max', field: 'temperature' },
    { name: 'users', op: 'distinct', field: 'user', precision: 12 },
    { name: 'p95_t', op: 'quantile', field: 'temperature', q: 0.95 },
  ],
};

/** The fused case's pipeline: also what `npm run profile` samples. */
export function fusedSpec(format: 'ndjson' | 'csv'): PipelineSpec {
  return { schema: { ...benchSchema, fields: benchSchema.fields.map((f) => ({ ...f })) }, parse: { format, batchSize: 65536 }, rules: RULES, views: [VIEW] };
}

/**
 * The native subject does what its peers do: parse, check, aggregate, and
 * finalise every window into a result table (an Arrow Table in JS, as
 * DuckDB's rows are read into JS), not only the partial states.
 */
function nativeFused(format: 'ndjson' | 'csv', bytes: Buffer): () => number {
  return () => {
    const p = Pipeline.create(fusedSpec(format));
    const a = p.push(bytes);
    const b = p.finish();
    const result = p.query(VIEW.name, {});
    p.close();
    if (result.numRows === 0) throw new Error('the fused pipeline produced no windows');
    return a.applied + b.applied;
  };
}

/** The plain TypeScript references composed like the native pipeline: parse → rules → window. */
function referenceFused(format: 'ndjson' | 'csv', bytes: Buffer): () => number {
  return () => {
    const s = fusedSpec(format);
    const parsed = referenceParse(s.schema, s.parse, bytes);
    const evaluated = ReferenceRuleSet.compile(s.schema, RULES).evaluate(parsed.rows);
    const view = new ReferenceView(s.schema, VIEW);
    view.update(evaluated.validRows.map((r) => parsed.rows[r] as Row));
    return view.query({}).length;
  };
}

interface Acc {
  n: number;
  sum: number;
  cnt: number;
  max: number;
  users: Set<string>;
  temps: number[];
}

/** The plain-JS peer: parse each line, check the rules, aggregate in a Map. */
function jsLoop(rows: Iterable<Record<string, unknown>>): number {
  const groups = new Map<string, Acc>();
  const statuses = new Set<string>(STATUSES);
  let applied = 0;
  for (const r of rows) {
    const t = r.temperature as number | null;
    const b = r.battery as number | null;
    if (r.device == null) continue;
    if (t != null && (t < -50 || t > 150)) continue;
    if (b != null && (b < 0 || b > 100)) continue;
    if (!statuses.has(r.status as string)) continue;
    const w = Math.floor((r.ts as number) / 60_000) * 60_000;
    const key = `${w}|${r.device as string}`;
    let a = groups.get(key);
    if (!a) groups.set(key, (a = { n: 0, sum: 0, cnt: 0, max: -Infinity, users: new Set(), temps: [] }));
    a.n++;
    if (t != null) {
      a.sum += t;
      a.cnt++;
      if (t > a.max) a.max = t;
      a.temps.push(t);
    }
    if (r.user != null) a.users.add(r.user as string);
    applied++;
  }
  for (const a of groups.values()) {
    a.temps.sort((x, y) => x - y);
    void a.temps[Math.floor(0.95 * (a.temps.length - 1))];
  }
  return applied;
}

/** UTF-8 text of `bytes` in slices that end at a newline: no string near V8's length limit. */
function* textSlices(bytes: Buffer, size = 64 << 20): Generator<string> {
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + size);
    if (end < bytes.length) {
      const nl = bytes.indexOf(10, end);
      end = nl < 0 ? bytes.length : nl + 1;
    }
    yield bytes.toString('utf8', start, end);
    start = end;
  }
}

function* ndjsonRows(bytes: Buffer): Generator<Record<string, unknown>> {
  for (const text of textSlices(bytes)) {
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break;
      if (end > start) yield JSON.parse(text.slice(start, end)) as Record<string, unknown>;
      start = end + 1;
    }
  }
}

function* csvRows(bytes: Buffer): Generator<Record<string, unknown>> {
  const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));
  let header = true;
  for (const text of textSlices(bytes)) {
    for (const line of text.split('\n')) {
      if (header) {
        header = false;
        continue;
      }
      if (!line) continue;
      const c = line.split(',');
      yield { ts: Number(c[0]), device: c[1] || null, site: c[2], temperature: num(c[3]), humidity: num(c[4]), battery: num(c[5]), status: c[6], user: c[7] || null };
    }
  }
}

/**
 * The device ceiling: `dd` reading the file sequentially in 1 MiB blocks
 * with O_DIRECT, so every byte comes from storage, not the page cache.
 */
function directRead(file: string, bytes: number): () => number {
  return () => {
    const dd = spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M', 'iflag=direct'], { encoding: 'utf8' });
    const copied = Number(/^(\d+) bytes/m.exec(dd.stderr ?? '')?.[1]);
    if (dd.status !== 0 || copied !== bytes) throw new Error(`dd iflag=direct read ${copied} of ${bytes} bytes: ${dd.stderr}`);
    return copied;
  };
}

/** Memory's ceiling: one thread reading the file in 1 MiB blocks from the page cache. */
function sequentialRead(file: string): () => number {
  const block = Buffer.allocUnsafe(1 << 20);
  return () => {
    const fd = openSync(file, 'r');
    let total = 0;
    try {
      for (let n = readSync(fd, block); n > 0; n = readSync(fd, block)) total += n;
    } finally {
      closeSync(fd);
    }
    return total;
  };
}

const SQL_FILTER = `device IS NOT NULL AND (temperature IS NULL OR temperature BETWEEN -50 AND 150)
  AND (battery IS NULL OR battery BETWEEN 0 AND 100) AND status IN (${STATUSES.map((s) => `'${s}'`).join(',')})`;

function duckSql(format: 'ndjson' | 'csv', file: string): string {
  const cols = `{'ts':'BIGINT','device':'VARCHAR','site':'VARCHAR','temperature':'DOUBLE','humidity':'DOUBLE','battery':'BIGINT','status':'VARCHAR','user':'VARCHAR'}`;
  const src =
    format === 'ndjson'
      ? `read_json('${file}', format='newline_delimited', columns=${cols})`
      : `read_csv('${file}', header=true, columns=${cols})`;
  return `SELECT time_bucket(INTERVAL 1 minute, epoch_ms(ts)) AS w, device, count(*) AS n, sum(temperature), avg(temperature),
    max(temperature), approx_count_distinct("user"), quantile_cont(temperature, 0.95)
    FROM ${src} WHERE ${SQL_FILTER} GROUP BY ALL`;
}

async function polarsPeer(format: 'ndjson' | 'csv', file: string, bytes: Buffer): Promise<() => number> {
  process.env.POLARS_MAX_THREADS = '1';
  const pl = (await import('nodejs-polars')).default;
  const filter = pl
    .col('device')
    .isNotNull()
    .and(pl.col('temperature').isNull().or(pl.col('temperature').gtEq(-50).and(pl.col('temperature').ltEq(150))))
    .and(pl.col('battery').isNull().or(pl.col('battery').gtEq(0).and(pl.col('battery').ltEq(100))))
    .and(pl.col('status').isIn([...STATUSES]));
  const measures = [
    pl.len().alias('n'),
    pl.col('temperature').sum(),
    pl.col('temperature').mean().alias('avg'),
    pl.col('temperature').max().alias('max'),
    pl.col('user').nUnique(),
    pl.col('temperature').quantile(0.95).alias('p95'),
  ];
  const bucket = pl.col('ts').div(60_000).floor().alias('w');
  // CSV: the lazy scan (projection and predicate pushed into the reader).
  if (format === 'csv') return () => pl.scanCSV(file).filter(filter).withColumn(bucket).groupBy(['w', 'device']).agg(...measures).collectSync().height;
  return () => pl.readJSON(bytes, { format: 'lines' }).filter(filter).withColumn(bucket).groupBy(['w', 'device']).agg(...measures).height;
}

const suite: Suite = {
  name: 'fused',
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const out: Measurement[] = [];
    // quantile_cont: DuckDB's exact quantile. Its approx_quantile keeps a
    // t-digest of ≈ 7 KB per group and ran ≈ 5× slower on these ~0.75
    // groups per row (and past 20 GB at 1M rows over repeated runs).
    const duck = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '8GB' });
    const conn = await duck.connect();
    const duckRow = (format: 'ndjson' | 'csv', file: string) => ({
      name: 'DuckDB threads=1',
      fn: () => conn.runAndReadAll(duckSql(format, file)),
      note: format === 'csv' ? 'read_csv + GROUP BY time_bucket' : 'read_json + GROUP BY time_bucket',
    });
    const ceilings = (file: string, bytes: number): Subject[] => [
      { name: 'sequential read, O_DIRECT (device)', fn: directRead(file, bytes), note: 'dd bs=1M iflag=direct, one thread: the storage ceiling' },
      { name: 'sequential read, page cache', fn: sequentialRead(file), note: 'readSync into a 1 MiB buffer, one thread: the memory ceiling' },
    ];
    const jsLoopName = (format: 'ndjson' | 'csv') => (format === 'ndjson' ? 'JSON.parse + JS loop' : 'split + JS loop');
    const jsLoopRun = (format: 'ndjson' | 'csv', bytes: Buffer) => () => jsLoop(format === 'ndjson' ? ndjsonRows(bytes) : csvRows(bytes));
    for (const format of ['ndjson', 'csv'] as const) {
      const bytes = dataset(format, ctx.rows);
      const file = datasetFile(format, ctx.rows);
      const input = { bytes: bytes.length, rows: ctx.rows };
      const polars = await polarsPeer(format, file, bytes);
      const caseName = `${format} parse→rules→window`;
      out.push(
        ...(await measure(ctx, 'fused', caseName, input, [
          { name: 'native fused pipeline', fn: nativeFused(format, bytes) },
          { name: 'TypeScript reference', fn: referenceFused(format, bytes), note: 'test/reference: parse → rules → aggregate' },
          { name: jsLoopName(format), fn: jsLoopRun(format, bytes) },
          { name: 'nodejs-polars 1 thread', fn: polars, note: format === 'csv' ? 'scanCSV + groupBy (lazy)' : 'readJSON(lines) + groupBy' },
          ...ceilings(file, bytes.length),
        ])),
      );
      out.push(...(await measureAsync(ctx, 'fused', caseName, input, [duckRow(format, file)])).map((m) => ({ ...m, baseline: 'native fused pipeline' })));
    }
    if (ctx.largeRows) {
      for (const format of ['ndjson', 'csv'] as const) {
        const rows = ctx.largeRows;
        const file = datasetFile(format, rows);
        const bytes = dataset(format, rows);
        const input = { bytes: bytes.length, rows };
        const caseName = `${format} parse→rules→window, ${rows / 1e6}M rows`;
        const subjects: Subject[] = [
          { name: 'native fused pipeline', fn: nativeFused(format, bytes), note: 'the TypeScript reference runs at 1M rows only' },
          { name: jsLoopName(format), fn: jsLoopRun(format, bytes) },
          { name: 'nodejs-polars 1 thread', fn: await polarsPeer(format, file, bytes) },
          ...ceilings(file, bytes.length),
        ];
        out.push(...(await measureRuns('fused', caseName, input, subjects)));
        out.push(...(await measureAsync(ctx, 'fused', caseName, input, [duckRow(format, file)])).map((m) => ({ ...m, baseline: 'native fused pipeline' })));
      }
    }
    return out;
  },
};

export default suite;
