/**
 * Fused parse → rules → tumbling-window aggregate, native vs its peers on
 * the same bytes: the TypeScript reference (JSON.parse / split + plain-JS
 * aggregation), DuckDB with one thread, and nodejs-polars with one thread.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Pipeline, type PipelineSpec } from '../../src/core/pipeline.js';
import type { RulesSpec } from '../../src/core/rules.js';
import type { ViewSpec } from '../../src/core/window.js';
import { benchSchema, dataset, STATUSES } from '../lib/data.js';
import { referenceParse } from '../../test/reference/parse.js';
import { ReferenceRuleSet } from '../../test/reference/rules.js';
import { ReferenceView, type Row } from '../../test/reference/aggregate.js';
import { measure, measureAsync, type BenchContext, type Measurement, type Suite } from '../lib/harness.js';

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

function spec(format: 'ndjson' | 'csv'): PipelineSpec {
  return { schema: { ...benchSchema, fields: benchSchema.fields.map((f) => ({ ...f })) }, parse: { format, batchSize: 65536 }, rules: RULES, views: [VIEW] };
}

function nativeFused(format: 'ndjson' | 'csv', bytes: Buffer): () => number {
  return () => {
    const p = Pipeline.create(spec(format));
    const a = p.push(bytes);
    const b = p.finish();
    return a.applied + b.applied;
  };
}

/** The plain TypeScript references composed like the native pipeline: parse → rules → window. */
function referenceFused(format: 'ndjson' | 'csv', bytes: Buffer): () => number {
  return () => {
    const s = spec(format);
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

function* ndjsonRows(bytes: Buffer): Generator<Record<string, unknown>> {
  const text = bytes.toString('utf8');
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if (end < 0) break;
    if (end > start) yield JSON.parse(text.slice(start, end)) as Record<string, unknown>;
    start = end + 1;
  }
}

function* csvRows(bytes: Buffer): Generator<Record<string, unknown>> {
  const lines = bytes.toString('utf8').split('\n');
  const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const c = line.split(',');
    yield { ts: Number(c[0]), device: c[1] || null, site: c[2], temperature: num(c[3]), humidity: num(c[4]), battery: num(c[5]), status: c[6], user: c[7] || null };
  }
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
    max(temperature), approx_count_distinct("user"), approx_quantile(temperature, 0.95)
    FROM ${src} WHERE ${SQL_FILTER} GROUP BY ALL`;
}

async function polarsPeer(format: 'ndjson' | 'csv', file: string, bytes: Buffer): Promise<() => number> {
  process.env.POLARS_MAX_THREADS = '1';
  const pl = (await import('nodejs-polars')).default;
  const agg = (df: ReturnType<typeof pl.DataFrame>) =>
    df
      .filter(
        pl.col('device').isNotNull()
          .and(pl.col('temperature').isNull().or(pl.col('temperature').gtEq(-50).and(pl.col('temperature').ltEq(150))))
          .and(pl.col('battery').isNull().or(pl.col('battery').gtEq(0).and(pl.col('battery').ltEq(100))))
          .and(pl.col('status').isIn([...STATUSES])),
      )
      .withColumn(pl.col('ts').div(60_000).floor().alias('w'))
      .groupBy(['w', 'device'])
      .agg(
        pl.len().alias('n'),
        pl.col('temperature').sum(),
        pl.col('temperature').mean().alias('avg'),
        pl.col('temperature').max().alias('max'),
        pl.col('user').nUnique(),
        pl.col('temperature').quantile(0.95).alias('p95'),
      ).height;
  if (format === 'csv') return () => agg(pl.readCSV(file));
  return () => agg(pl.readJSON(bytes, { format: 'lines' }));
}

const suite: Suite = {
  name: 'fused',
  async run(ctx: BenchContext): Promise<Measurement[]> {
    const out: Measurement[] = [];
    const duck = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await duck.connect();
    for (const format of ['ndjson', 'csv'] as const) {
      const bytes = dataset(format, ctx.rows);
      const file = join(import.meta.dirname, '..', 'data', `fused-${ctx.rows}.${format}`);
      writeFileSync(file, bytes);
      const input = { bytes: bytes.length, rows: ctx.rows };
      const polars = await polarsPeer(format, file, bytes);
      out.push(
        ...measure(ctx, 'fused', `${format} parse→rules→window`, input, [
          { name: 'native fused pipeline', fn: nativeFused(format, bytes) },
          { name: 'TypeScript reference', fn: referenceFused(format, bytes), note: 'test/reference: parse → rules → aggregate' },
          { name: format === 'ndjson' ? 'JSON.parse + JS loop' : 'split + JS loop', fn: () => jsLoop(format === 'ndjson' ? ndjsonRows(bytes) : csvRows(bytes)) },
          { name: 'nodejs-polars 1 thread', fn: polars, note: format === 'csv' ? 'readCSV + groupBy' : 'readJSON(lines) + groupBy' },
        ]),
      );
      out.push(
        ...(await measureAsync(ctx, 'fused', `${format} parse→rules→window`, input, [
          { name: 'DuckDB threads=1', fn: () => conn.runAndReadAll(duckSql(format, file)), note: format === 'csv' ? 'read_csv + GROUP BY time_bucket' : 'read_json + GROUP BY time_bucket' },
        ])).map((m) => ({ ...m, baseline: 'native fused pipeline' })),
      );
    }
    return out;
  },
};

export default suite;
