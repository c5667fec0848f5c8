/**
 * Builds a view store the way the batch and speed layers leave it, with the
 * real fused native pipeline: a batch view of the events before T (manifest
 * + state.arrow) and realtime checkpoints of several partitions holding the
 * events at or after their boundary. Shared by the serving tests and the
 * serving benchmark.
 */
import type { Table } from 'apache-arrow';
import { toNativeSpecs, validateConfig, type Config, type ConfigInput } from '../src/config/index.js';
import { Pipeline, type PipelineSpec, type ViewQuery } from '../src/core/pipeline.js';
import { viewDefinitions } from '../src/serving/definition.js';
import type { ObjectStore } from '../src/storage/index.js';
import { ReferenceView, type Row } from './reference/aggregate.js';

/** Past any event time: a view range open on that side. */
export const FAR_PAST = -8.64e15;
export const FAR_FUTURE = 8.64e15;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A reading as the test schema has it. */
export type Reading = {
  ts: number;
  device: string;
  site: string;
  temperature: number | null;
  battery: number | null;
  user: string | null;
};

/** The config the serving tests run: one view of each window kind, every measure, a derived column as a group field. */
export function testConfigInput(overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    schema: {
      fields: [
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'device', type: 'string', nullable: false },
        { name: 'site', type: 'string', nullable: false },
        { name: 'temperature', type: 'float64' },
        { name: 'battery', type: 'int64' },
        { name: 'user', type: 'string' },
      ],
      eventTime: 'ts',
    },
    rules: {
      derive: [{ column: 'level', default: 'normal', cases: [{ when: 'battery < 20', set: 'low' }] }],
    },
    views: [
      {
        name: 'by_device_1m',
        window: { type: 'tumbling', size: '1m' },
        groupBy: ['device'],
        measures: [
          { op: 'count' },
          { op: 'count', field: 'temperature', name: 'readings' },
          { op: 'sum', field: 'battery' },
          { op: 'min', field: 'temperature' },
          { op: 'max', field: 'temperature' },
          { op: 'avg', field: 'temperature' },
          { op: 'distinct', field: 'user' },
          { op: 'quantile', field: 'temperature', q: 0.9, name: 'p90_temperature' },
        ],
      },
      {
        name: 'by_site_5m',
        window: { type: 'hopping', size: '5m', slide: '1m' },
        groupBy: ['site', 'level'],
        measures: [{ op: 'count' }, { op: 'sum', field: 'battery' }, { op: 'max', field: 'temperature' }],
      },
      {
        name: 'device_sessions',
        window: { type: 'session', gap: '2m' },
        groupBy: ['device'],
        measures: [{ op: 'count' }, { op: 'min', field: 'battery' }],
      },
      {
        name: 'total_1m',
        window: { type: 'tumbling', size: '1m' },
        measures: [{ op: 'count' }, { op: 'sum', field: 'battery' }],
        filter: "site != 'site-0'",
      },
    ],
    serving: { maxRows: 5000, maxRange: '7d' },
    ...overrides,
  };
}

export function testConfig(overrides: Partial<ConfigInput> = {}): Config {
  return validateConfig(testConfigInput(overrides));
}

/** A reading with the test config's derived column, as the rules tag it. */
export type TaggedReading = Reading & { level: string };

/**
 * The test config's rules and view filter, for the TypeScript reference
 * (which aggregates records, it does not evaluate rules): `level` is 'low'
 * when battery < 20 (a null battery does not match, so 'normal'), and
 * `total_1m` counts only sites other than site-0.
 */
export function tag(r: Reading): TaggedReading {
  return { ...r, level: r.battery !== null && r.battery < 20 ? 'low' : 'normal' };
}

function passesFilter(view: string, r: Reading): boolean {
  return view !== 'total_1m' || r.site !== 'site-0';
}

/** The spec both layers compile, as `pulse batch run` and `pulse speed start` build it. */
export function pipelineSpec(config: Config): PipelineSpec {
  const specs = toNativeSpecs(config);
  return { schema: specs.schema, parse: specs.batchParse, rules: specs.rules, views: specs.views };
}

export function ndjson(events: readonly object[]): Buffer {
  return Buffer.from(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

/**
 * The fused native pipeline fed with `events`, every view restricted to
 * `[from, to)`: the boundary a batch run (`[−∞, T)`) or a speed worker
 * (`[T, ∞)`) applies.
 */
export function buildPipeline(config: Config, events: readonly Reading[], from = FAR_PAST, to = FAR_FUTURE): Pipeline {
  const pipeline = Pipeline.create(pipelineSpec(config));
  for (const view of config.views) pipeline.setViewRange(view.name, from, to);
  if (events.length > 0) {
    const report = pipeline.push(ndjson(events));
    if (report.parseRejects + report.ruleRejects > 0) throw new Error(`test events rejected: ${JSON.stringify(report.rejects.slice(0, 3))}`);
  }
  pipeline.finish();
  return pipeline;
}

/** Every view recomputed over all events, as one batch run over everything would build them. */
export interface Recomputation {
  query(view: string, q: ViewQuery): Table;
}

export function recompute(config: Config, events: readonly Reading[]): Recomputation {
  const pipeline = buildPipeline(config, events);
  return { query: (view, q) => pipeline.query(view, q) };
}

/** The exact reference answer over all events (test/reference/aggregate.ts). */
export function referenceQuery(config: Config, events: readonly Reading[], view: string, q: ViewQuery): Row[] {
  const d = viewDefinitions(config).find((x) => x.name === view);
  if (d === undefined) throw new Error(`no view ${view}`);
  const ref = new ReferenceView(d.recordSchema, d.spec, { derivedColumns: d.derivedColumns });
  const tagged = events.map(tag);
  ref.update(tagged, tagged.map((e) => passesFilter(view, e)));
  return ref.query(q);
}

/** Publishes a batch view of every configured view: the events before T, then the manifest (the atomic switch). */
export async function publishBatch(store: ObjectStore, config: Config, events: readonly Reading[], T: number, version: string): Promise<void> {
  const pipeline = buildPipeline(config, events, FAR_PAST, T);
  for (const view of config.views) {
    const snapshot = `views/${view.name}/batch/${version}/state.arrow`;
    await store.put(snapshot, pipeline.snapshot(view.name));
    const manifest = {
      view: view.name,
      version,
      runId: `run-${version}`,
      coverageEnd: T,
      alignmentMs: MINUTE,
      createdAt: new Date().toISOString(),
      snapshot,
      inputs: [],
      counts: { records: events.length, applied: events.filter((e) => e.ts < T).length, rejected: 0, late: 0, beyondCoverage: 0 },
    };
    await store.put(`views/${view.name}/batch/manifest.json`, Buffer.from(JSON.stringify(manifest)));
  }
}

export interface RealtimePartition {
  topic: string;
  partition: number;
  seq: number;
  /** The boundary the speed worker had applied (≤ the published T when it has not seen the newest manifest yet). */
  applied: number;
  events: readonly Reading[];
  /** Next offset to consume; defaults to the event count. */
  offset?: number;
  createdAt?: number;
}

/** Writes one partition's realtime snapshots, then its checkpoint (the commit point); returns the checkpoint's watermark. */
export async function publishCheckpoint(store: ObjectStore, config: Config, p: RealtimePartition): Promise<number | null> {
  const pipeline = buildPipeline(config, p.events, p.applied, FAR_FUTURE);
  const views: Record<string, string> = {};
  const batchCoverage: Record<string, number> = {};
  for (const view of config.views) {
    const key = `views/${view.name}/realtime/${p.topic}-${p.partition}/${p.seq}.arrow`;
    await store.put(key, pipeline.snapshot(view.name));
    views[view.name] = key;
    batchCoverage[view.name] = p.applied;
  }
  const checkpoint = {
    topic: p.topic,
    partition: p.partition,
    seq: p.seq,
    offset: String(p.offset ?? p.events.length),
    watermark: pipeline.watermark(),
    createdAt: new Date(p.createdAt ?? Date.now()).toISOString(),
    views,
    batchCoverage,
  };
  await store.put(`realtime/${p.topic}-${p.partition}/checkpoint.json`, Buffer.from(JSON.stringify(checkpoint)));
  return checkpoint.watermark;
}

/** Seeded readings: `count` events over `spanMs` from `start`, `devices` devices on `sites` sites, nulls included. */
export function seededReadings(count: number, start: number, spanMs: number, devices: number, sites: number, seed: number): Reading[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Reading[] = [];
  for (let i = 0; i < count; i++) {
    const d = Math.floor(rnd() * devices);
    out.push({
      ts: start + Math.floor(rnd() * spanMs),
      device: `dev-${d}`,
      site: `site-${d % sites}`,
      temperature: rnd() < 0.05 ? null : Math.round((rnd() * 60 - 10) * 100) / 100,
      battery: rnd() < 0.05 ? null : Math.floor(rnd() * 101),
      user: rnd() < 0.1 ? null : `u${Math.floor(rnd() * 40)}`,
    });
  }
  return out;
}
