/**
 * Invariant 3 through the HTTP API: for random events split at a random
 * boundary T between a batch view and several realtime partitions (whose
 * speed workers may lag behind the newest T), every answer equals a native
 * recomputation of the same query over all events (every measure, sketches
 * included) and the exact TypeScript reference (exact measures exactly,
 * sketches within their error bounds) — straddling hopping windows,
 * sessions, rollups and group filters included.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { buildServer } from '../src/serving/index.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { recompute, referenceQuery, DAY, HOUR, MINUTE, publishBatch, publishCheckpoint, testConfig, type Reading, type Recomputation } from './serving-fixtures.js';
import { expectMatchesReference, expectSameRows, tableRows, type JsonRow } from './serving-expect.js';
import { createTestBucket, type TestBucket } from './support/s3.js';

const START = Date.UTC(2026, 2, 1, 6);
const SPAN = 6 * HOUR;

const reading = fc.record({
  ts: fc.integer({ min: START, max: START + SPAN - 1 }),
  device: fc.constantFrom('dev-0', 'dev-1', 'dev-2', 'dev-3', 'dev-4'),
  site: fc.constantFrom('site-0', 'site-1', 'site-2'),
  temperature: fc.option(fc.double({ min: -20, max: 60, noNaN: true, noDefaultInfinity: true }), { freq: 8 }),
  battery: fc.option(fc.integer({ min: 0, max: 100 }), { freq: 8 }),
  user: fc.option(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'), { freq: 6 }),
});

const VIEWS = ['by_device_1m', 'by_site_5m', 'device_sessions', 'total_1m'] as const;

/** A query: a view, a window-start range (sometimes defaulted), group filters, a rollup, a limit. */
const query = fc.record({
  view: fc.constantFrom(...VIEWS),
  from: fc.option(fc.integer({ min: START - HOUR, max: START + SPAN }), { freq: 6 }),
  length: fc.integer({ min: 1, max: SPAN + 2 * HOUR }),
  aligned: fc.boolean(),
  device: fc.option(fc.constantFrom('dev-0', 'dev-3', 'dev-9'), { freq: 2 }),
  site: fc.option(fc.constantFrom('site-1', 'site-2'), { freq: 2 }),
  level: fc.option(fc.constantFrom('low', 'normal'), { freq: 2 }),
  granularity: fc.option(fc.constantFrom('1m', '5m', '1h', '1d'), { freq: 2 }),
  limit: fc.option(fc.integer({ min: 1, max: 50 }), { freq: 4 }),
});

/** Scenarios; `busy` ones have many events, a batch view and several partitions. */
const scenarioOf = (busy: boolean) =>
  fc.record({
    events: fc.array(reading, { minLength: busy ? 150 : 0, maxLength: 250 }),
    boundaryMinutes: fc.integer({ min: -30, max: SPAN / MINUTE + 30 }),
    partitions: fc.integer({ min: busy ? 2 : 1, max: 4 }),
    assignment: fc.array(fc.nat(), { maxLength: 250 }),
    /** How many minutes behind T each partition's applied boundary is (its worker has not seen the newest manifest). */
    lagMinutes: fc.array(fc.integer({ min: 0, max: 45 }), { minLength: 4, maxLength: 4 }),
    batchPublished: busy ? fc.constant(true) : fc.boolean(),
    queries: fc.array(query, { minLength: 4, maxLength: 10 }),
  });
const scenario = scenarioOf(false);

type Scenario = typeof scenario extends fc.Arbitrary<infer S> ? S : never;
type Query = Scenario['queries'][number];

const GROUPS: Record<(typeof VIEWS)[number], readonly string[]> = {
  by_device_1m: ['device'],
  by_site_5m: ['site', 'level'],
  device_sessions: ['device'],
  total_1m: [],
};

function queryString(q: Query): { url: string; params: URLSearchParams } {
  const params = new URLSearchParams();
  if (q.from !== null) {
    const from = q.aligned ? Math.floor(q.from / MINUTE) * MINUTE : q.from;
    params.set('from', new Date(from).toISOString());
    params.set('to', new Date(from + (q.aligned ? Math.ceil(q.length / MINUTE) * MINUTE : q.length)).toISOString());
  }
  const groups = GROUPS[q.view];
  if (q.device !== null && groups.includes('device')) params.set('device', q.device);
  if (q.site !== null && groups.includes('site')) params.set('site', q.site);
  if (q.level !== null && groups.includes('level')) params.set('level', q.level);
  if (q.granularity !== null && (q.view === 'by_device_1m' || q.view === 'total_1m')) params.set('granularity', q.granularity);
  if (q.limit !== null) params.set('limit', String(q.limit));
  return { url: `/v1/views/${q.view}?${params.toString()}`, params };
}

/** What the serving layer must answer: the native query over a recomputation of all events (and the query, for the reference). */
function expectedRows(full: Recomputation, view: string, answer: { from: string; to: string }, params: URLSearchParams, maxRows: number) {
  const groups: Record<string, string> = {};
  for (const g of GROUPS[view as (typeof VIEWS)[number]]) {
    const v = params.get(g);
    if (v !== null) groups[g] = v;
  }
  const granularity = params.get('granularity');
  const granularityMs = granularity === null ? undefined : { '1m': MINUTE, '5m': 5 * MINUTE, '1h': HOUR, '1d': DAY }[granularity];
  const limit = params.get('limit');
  const query = {
    from: Date.parse(answer.from),
    to: Date.parse(answer.to),
    groups,
    ...(granularityMs === undefined || granularityMs === MINUTE ? {} : { granularityMs }),
    limit: limit === null ? maxRows + 1 : Number(limit),
  };
  return { rows: tableRows(full.query(view, query)), query };
}

/** Writes the scenario's store: a batch view of events < T (maybe), and each partition's realtime state. */
async function publishScenario(store: ObjectStore, config: Config, s: Scenario): Promise<{ T: number | null; watermarks: (number | null)[] }> {
  const T = s.batchPublished ? START + s.boundaryMinutes * MINUTE : null;
  if (T !== null) await publishBatch(store, config, s.events, T, 'v1');
  const byPartition: Reading[][] = Array.from({ length: s.partitions }, () => []);
  s.events.forEach((e, i) => byPartition[(s.assignment[i] ?? i) % s.partitions]?.push(e));
  const watermarks: (number | null)[] = [];
  for (let p = 0; p < s.partitions; p++) {
    const applied = T === null ? -8.64e15 : T - (s.lagMinutes[p] ?? 0) * MINUTE;
    const events = byPartition[p] ?? [];
    watermarks.push(await publishCheckpoint(store, config, { topic: 'events', partition: p, seq: 1, applied, events }));
  }
  return { T, watermarks };
}

async function checkScenario(store: ObjectStore, s: Scenario): Promise<void> {
  const config = testConfig();
  const { T, watermarks } = await publishScenario(store, config, s);
  const full = recompute(config, s.events);
  const app = await buildServer({ config, store, lag: null, pollIntervalMs: 60_000 });
  try {
    await app.ready();
    const marks = watermarks.filter((w): w is number => w !== null);
    const realtime = marks.length === 0 ? null : Math.min(...marks);
    const completeThrough = T === null ? realtime : realtime === null ? T : Math.max(T, realtime);
    for (const q of s.queries) {
      const { url, params } = queryString(q);
      const res = await app.inject({ url });
      const body = res.json() as { from: string; to: string; boundary: string | null; rows: JsonRow[]; freshness: { completeThrough: string | null } };
      if (res.statusCode === 400) {
        // Only the row cap may refuse a valid query; the recomputation must then exceed it too.
        expect(body, url).toMatchObject({ message: expect.stringContaining('more than') });
        continue;
      }
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
      expect(body.boundary).toBe(T === null ? null : new Date(T).toISOString());
      expect(body.freshness.completeThrough).toBe(completeThrough === null ? null : new Date(completeThrough).toISOString());
      const { rows: expected, query: nativeQuery } = expectedRows(full, q.view, body, params, config.serving.maxRows);
      expectSameRows(body.rows, expected, completeThrough, ['window_start', 'window_end'], url);
      const measures = config.views.find((v) => v.name === q.view)?.measures ?? [];
      expectMatchesReference(body.rows, referenceQuery(config, s.events, q.view, nativeQuery), measures, `${url} vs reference`);
    }
  } finally {
    await app.close();
  }
}

describe('invariant 3: merged answers equal a recomputation over all events', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('on a filesystem view store, for random events, boundaries, partitions and queries', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const dir = await mkdtemp(join(tmpdir(), 'pulse-serving-'));
        dirs.push(dir);
        await checkScenario(openStore(dir), s);
      }),
      { numRuns: 100 },
    );
  }, 300_000);

  it('on the S3 server, for one seeded scenario', async () => {
    let bucket: TestBucket | undefined;
    try {
      bucket = await createTestBucket('serving-merge');
      const [s] = fc.sample(scenarioOf(true), { seed: 7, numRuns: 1 });
      await checkScenario(openStore(`s3://${bucket.name}/store`), s as Scenario);
    } finally {
      await bucket?.remove();
    }
  }, 120_000);
});
