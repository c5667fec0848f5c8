/**
 * The HTTP contract through `inject`: routes, parameters, formats, auth,
 * limits, metrics and docs — and bad or hostile input always answered with
 * a 4xx, never a 5xx.
 */
import { tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/index.js';
import { ARROW_STREAM, buildServer, type PulseServer } from '../src/serving/index.js';
import { freshness, freshnessJson } from '../src/serving/freshness.js';
import type { ServedView } from '../src/serving/served-view.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { recompute, HOUR, MINUTE, publishBatch, publishCheckpoint, seededReadings, testConfig, testConfigInput, type Reading } from './serving-fixtures.js';
import { expectSameRows, tableRows } from './serving-expect.js';

const START = Date.UTC(2026, 2, 1, 0);
const T = START + 3 * HOUR;
const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

let dir: string;
let store: ObjectStore;
let events: Reading[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pulse-serving-api-'));
  store = openStore(dir);
  const config = testConfig();
  events = seededReadings(3000, START, 4 * HOUR, 8, 3, 11);
  await publishBatch(store, config, events, T, 'v1');
  await publishCheckpoint(store, config, { topic: 'events', partition: 0, seq: 3, applied: T, events: events.filter((_, i) => i % 2 === 0) });
  await publishCheckpoint(store, config, { topic: 'events', partition: 1, seq: 5, applied: T, events: events.filter((_, i) => i % 2 === 1) });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function server(config: Config, extra: Partial<Parameters<typeof buildServer>[0]> = {}): Promise<PulseServer> {
  const app = await buildServer({ config, store, lag: null, pollIntervalMs: 60_000, ...extra });
  await app.ready();
  return app;
}

describe('serving API', () => {
  let app: PulseServer;
  const config = testConfig();
  beforeAll(async () => {
    app = await server(config);
  });
  afterAll(async () => {
    await app.close();
  });

  it('lists the views with their batch coverage and realtime watermark', async () => {
    const res = await app.inject('/v1/views');
    expect(res.statusCode).toBe(200);
    const { views } = res.json() as { views: Record<string, unknown>[] };
    expect(views.map((v) => v.name)).toEqual(['by_device_1m', 'by_site_5m', 'device_sessions', 'total_1m']);
    for (const v of views) {
      expect(v).toMatchObject({ status: 'serving', batchVersion: 'v1', batchCoverageEnd: new Date(T).toISOString(), realtimePartitions: 2 });
      expect(typeof v.realtimeWatermark).toBe('string');
    }
  });

  it('answers a query across the boundary with rows equal to a recomputation, and freshness', async () => {
    const from = T - HOUR;
    const to = T + HOUR;
    const res = await app.inject(`/v1/views/by_device_1m?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&device=dev-3`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['pulse-version']).toMatch(/batch@v1 events-0@3 events-1@5$/);
    const body = res.json() as { rows: Record<string, unknown>[]; boundary: string; freshness: Record<string, unknown> };
    expect(body.boundary).toBe(new Date(T).toISOString());
    const expected = tableRows(recompute(config, events).query('by_device_1m', { from, to, groups: { device: 'dev-3' } }));
    expect(expected.length).toBeGreaterThan(30);
    const completeThrough = Date.parse(body.freshness.completeThrough as string);
    expectSameRows(body.rows, expected, completeThrough);
    expect(body.rows.some((r) => r.complete === false)).toBe(true);
    expect(body.rows.some((r) => r.complete === true)).toBe(true);
    expect(body.freshness.batchCoverageEnd).toBe(new Date(T).toISOString());
    expect(body.freshness.snapshotAgeMs).toBeGreaterThanOrEqual(0);
  });

  it('returns the same rows as an Arrow IPC stream on Accept: application/vnd.apache.arrow.stream', async () => {
    const url = `/v1/views/by_site_5m?from=${new Date(T - 30 * MINUTE).toISOString()}&to=${new Date(T + 30 * MINUTE).toISOString()}&site=site-1`;
    const json = await app.inject(url);
    const arrow = await app.inject({ url, headers: { accept: ARROW_STREAM } });
    expect(arrow.statusCode).toBe(200);
    expect(arrow.headers['content-type']).toBe(ARROW_STREAM);
    expect(arrow.headers['pulse-boundary']).toBe(new Date(T).toISOString());
    const table = tableFromIPC(arrow.rawPayload);
    const rows = (json.json() as { rows: Record<string, unknown>[] }).rows;
    expect(table.numRows).toBe(rows.length);
    expect(table.schema.fields.map((f) => f.name)).toEqual(Object.keys(rows[0] ?? {}));
    const arrowRows = tableRows(table);
    arrowRows.forEach((r, i) => {
      expect(new Date(r.window_start as number).toISOString()).toBe(rows[i]?.window_start);
      expect(r.count).toBe(rows[i]?.count);
      expect(r.complete).toBe(rows[i]?.complete);
    });
  });

  it('rolls tumbling windows up to a coarser granularity', async () => {
    const from = START;
    const to = START + 4 * HOUR;
    const res = await app.inject(`/v1/views/total_1m?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&granularity=1h`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { rows: Record<string, unknown>[]; granularity: string };
    expect(body.granularity).toBe('1h');
    expect(body.rows).toHaveLength(4);
    const expected = tableRows(recompute(config, events).query('total_1m', { from, to, granularityMs: HOUR }));
    expectSameRows(body.rows, expected, Date.parse((res.json() as { freshness: { completeThrough: string } }).freshness.completeThrough));
  });

  it('defaults to the last day up to the newest data', async () => {
    const res = await app.inject('/v1/views/total_1m');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { from: string; to: string; rows: unknown[] };
    const newest = Math.max(...events.map((e) => e.ts));
    expect(Date.parse(body.to)).toBe(Math.floor(newest / MINUTE) * MINUTE + MINUTE);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(24 * HOUR);
    expect(body.rows.length).toBeGreaterThan(200);
  });

  it('reports freshness per view', async () => {
    const res = await app.inject('/v1/views/by_device_1m/freshness');
    expect(res.statusCode).toBe(200);
    const body = res.json() as Record<string, unknown> & { partitions: Record<string, unknown>[] };
    expect(body).toMatchObject({ view: 'by_device_1m', batchCoverageEnd: new Date(T).toISOString(), consumerLag: null, batch: { version: 'v1', runId: 'run-v1' } });
    expect(body.partitions.map((p) => [p.partition, p.seq])).toEqual([
      [0, 3],
      [1, 5],
    ]);
  });

  it('answers 404 for unknown views', async () => {
    for (const url of ['/v1/views/nope', '/v1/views/nope/freshness', '/v1/views/BY_DEVICE_1M', '/v2/views']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(404);
    }
    // A name past the longest path parameter is refused before routing.
    expect((await app.inject(`/v1/views/${'x'.repeat(300)}`)).statusCode).toBe(414);
    expect((await app.inject('/v1/views/nope')).json()).toMatchObject({ message: expect.stringContaining("unknown view 'nope'") });
  });

  it('answers 400 with the zod issues for bad parameters', async () => {
    const bad: [string, string][] = [
      ['from=yesterday', 'from'],
      ['from=2026-03-01T00:00:00', 'from'], // no offset: ambiguous
      ['from=2026-13-01', 'from'],
      ['from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z', 'to'],
      ['from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
      ['from=1970-01-01T00:00:00Z&to=2100-01-01T00:00:00Z', 'to'],
      ['limit=0', 'limit'],
      ['limit=-5', 'limit'],
      ['limit=1e3', 'limit'],
      ['limit=999999999', 'limit'],
      ['granularity=90s', 'granularity'],
      ['granularity=0m', 'granularity'],
      ['granularity=soon', 'granularity'],
      ['granularity=99999999999999d', 'granularity'],
      ['granularity=30d', 'granularity'],
      ['device=a&device=b', 'device'],
      ['colour=red', ''],
      ['__proto__=1', ''],
      ['constructor=x', ''],
      [`device=${'d'.repeat(600)}`, 'device'],
    ];
    for (const [query, path] of bad) {
      const res = await app.inject(`/v1/views/by_device_1m?${query}`);
      expect(res.statusCode, query).toBe(400);
      const body = res.json() as { message: string; issues: { path: string[] }[] };
      expect(body.issues.length, query).toBeGreaterThan(0);
      expect(body.issues[0]?.path.join('.'), query).toBe(path);
    }
    const hopping = await app.inject('/v1/views/by_site_5m?granularity=1h');
    expect(hopping.statusCode).toBe(400);
    expect(hopping.json()).toMatchObject({ message: expect.stringContaining('tumbling views only') });
  });

  it('refuses an answer past serving.maxRows with a clear 400, unless a limit asks for fewer rows', async () => {
    const small = await server(testConfig({ serving: { maxRows: 10, maxRange: '7d' } }));
    try {
      const range = `from=${new Date(START).toISOString()}&to=${new Date(START + HOUR).toISOString()}`;
      const res = await small.inject(`/v1/views/total_1m?${range}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ message: expect.stringContaining('more than 10 rows') });
      const limited = await small.inject(`/v1/views/total_1m?${range}&limit=10`);
      expect(limited.statusCode).toBe(200);
      expect((limited.json() as { rows: unknown[] }).rows).toHaveLength(10);
    } finally {
      await small.close();
    }
  });

  it('treats injection-like filter values as plain values', async () => {
    for (const value of ["' OR 1=1 --", '<script>alert(1)</script>', '../../etc/passwd', '${jndi:ldap://x}', '\u0000', '%00', 'dev-1;DROP TABLE x']) {
      const res = await app.inject(`/v1/views/by_device_1m?device=${encodeURIComponent(value)}`);
      expect(res.statusCode, value).toBe(200);
      expect((res.json() as { rows: unknown[] }).rows, value).toEqual([]);
    }
  });

  it('never answers a 5xx to random query strings', async () => {
    const hostile = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('from', 'to', 'limit', 'granularity', 'device', 'site', 'level', '__proto__', 'to[]', 'from[gt]'),
    );
    const value = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom('2026-03-01T00:00:00Z', '2026-03-01', '-1', '0', '1e400', 'NaN', '1h', '1m', '%', '%zz', "'", '"', '\\'),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('by_device_1m', 'by_site_5m', 'device_sessions', 'total_1m'), fc.array(fc.tuple(hostile, value), { maxLength: 5 }), async (view, pairs) => {
        const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
        const res = await app.inject(`/v1/views/${view}?${query}`);
        expect(res.statusCode, `${view}?${query}: ${res.body}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses oversized request targets and bodies', async () => {
    const long = await app.inject(`/v1/views/by_device_1m?device=${'a'.repeat(5000)}`);
    expect(long.statusCode).toBe(414);
    const body = await app.inject({ method: 'POST', url: '/v1/views', payload: 'x'.repeat(100_000), headers: { 'content-type': 'text/plain' } });
    expect(body.statusCode).toBeGreaterThanOrEqual(400);
    expect(body.statusCode).toBeLessThan(500);
  });

  it('sends security headers and no CORS headers unless configured', async () => {
    const res = await app.inject({ url: '/v1/views', headers: { origin: 'https://evil.example' } });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const corsApp = await server(testConfig({ serving: { cors: ['https://dash.example'] } }));
    try {
      const ok = await corsApp.inject({ url: '/v1/views', headers: { origin: 'https://dash.example' } });
      expect(ok.headers['access-control-allow-origin']).toBe('https://dash.example');
      const other = await corsApp.inject({ url: '/v1/views', headers: { origin: 'https://evil.example' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await corsApp.close();
    }
  });

  it('serves the OpenAPI document with one route per view and its group filters', async () => {
    const res = await app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, { get: { parameters: { name: string }[] } }> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/views', '/v1/views/by_device_1m', '/v1/views/by_site_5m/freshness', '/healthz', '/metrics']));
    const params = doc.paths['/v1/views/by_site_5m']?.get.parameters.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['from', 'to', 'limit', 'site', 'level']));
    expect((await app.inject('/docs')).statusCode).toBe(200);
  });

  it('exposes request, version and freshness metrics', async () => {
    await app.inject('/v1/views/total_1m');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(/pulse_http_requests_total\{method="GET",route="\/v1\/views\/total_1m",status="200"\} \d+/);
    expect(text).toMatch(/pulse_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/views\/total_1m"\}/);
    expect(text).toMatch(/pulse_serving_view_generation\{view="by_device_1m"\} \d+/);
    expect(text).toMatch(/pulse_serving_batch_version_info\{view="by_device_1m",version="v1"\} 1/);
    expect(text).toMatch(/pulse_serving_realtime_snapshot_age_seconds\{view="by_device_1m"\} [\d.e+-]+/);
    expect(text).toMatch(/pulse_http_requests_total\{method="GET",route="unmatched",status="404"\}|pulse_http_requests_total\{method="GET",route="\/v1\/views\/:name"/);
  });

  it('answers the health probes', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ok' });
  });
});

describe('bearer-token auth', () => {
  let app: PulseServer;
  beforeAll(async () => {
    app = await server(testConfig({ serving: { auth: { tokens: [TOKEN] } } }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('asks for a token on every API route, but not on the health probes', async () => {
    for (const url of ['/v1/views', '/v1/views/by_device_1m', '/v1/views/by_device_1m/freshness', '/metrics', '/docs/json', '/v1/views/nope']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="pulse"/);
    }
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });

  it('accepts a configured token and refuses wrong or malformed ones', async () => {
    expect((await app.inject({ url: '/v1/views', headers: auth })).statusCode).toBe(200);
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Basic ${TOKEN}`, TOKEN, `Bearer ${'a'.repeat(2000)}`, 'Bearer \u00e9\u00e9']) {
      const res = await app.inject({ url: '/v1/views', headers: { authorization } });
      expect(res.statusCode, authorization.slice(0, 40)).toBe(401);
    }
  });

  it('takes its tokens from PULSE_API_TOKENS through the config loader', async () => {
    const { loadConfig } = await import('../src/config/index.js');
    const file = join(dir, 'pulse.config.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, JSON.stringify(testConfigInput()));
    const { config } = await loadConfig({ file, env: { PULSE_API_TOKENS: 'env-token-aaaaaaaaaaaa, env-token-bbbbbbbbbbbb' } });
    const envApp = await server(config);
    try {
      expect((await envApp.inject('/v1/views')).statusCode).toBe(401);
      expect((await envApp.inject({ url: '/v1/views', headers: { authorization: 'Bearer env-token-bbbbbbbbbbbb' } })).statusCode).toBe(200);
    } finally {
      await envApp.close();
    }
  });
});

describe('repeated queries', () => {
  let app: PulseServer;
  let clock = Date.now() + HOUR; // after the snapshots were written
  beforeAll(async () => {
    app = await server(testConfig(), { now: () => clock });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answer a repeated query with the same rows and a freshness block made at answer time', async () => {
    const url = `/v1/views/by_device_1m?device=dev-2&from=${new Date(T - HOUR).toISOString()}&to=${new Date(T + HOUR).toISOString()}`;
    const first = await app.inject(url);
    const again = await app.inject(url);
    expect(first.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    clock += 1234;
    const later = await app.inject(url);
    const [a, b] = [first.json(), later.json()] as { rows: unknown[]; freshness: { snapshotAgeMs: number } }[];
    expect(b?.rows).toEqual(a?.rows);
    expect(b?.freshness.snapshotAgeMs).toBe((a?.freshness.snapshotAgeMs ?? NaN) + 1234);
    const view = app.pulseRegistry.current('by_device_1m');
    expect(b?.freshness).toEqual(freshness(view, clock));
  });

  it('print the freshness block as JSON.stringify would, at any age', () => {
    const view = app.pulseRegistry.current('by_device_1m');
    expect(view).toBeDefined();
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), (now) => {
        const expected = freshness(view, now);
        expect(JSON.parse(freshnessJson(view as ServedView, expected.snapshotAgeMs))).toEqual(expected);
        expect(freshnessJson(view as ServedView, expected.snapshotAgeMs)).toBe(JSON.stringify(expected));
      }),
    );
  });

  it('still refuse a repeated bad query with its zod issues, and answer the good one it resembles', async () => {
    const range = `from=${new Date(T - HOUR).toISOString()}&to=${new Date(T + HOUR).toISOString()}`;
    for (let i = 0; i < 3; i++) {
      const bad = await app.inject(`/v1/views/by_device_1m?${range}&limit=0`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ issues: [{ path: ['limit'] }] });
      const good = await app.inject(`/v1/views/by_device_1m?${range}&limit=5`);
      expect(good.statusCode).toBe(200);
      expect((good.json() as { rows: unknown[] }).rows).toHaveLength(5);
    }
  });
});

describe('rate limit and overload', () => {
  it('answers 429 past the configured rate, health probes excepted', async () => {
    const app = await server(testConfig({ serving: { rateLimit: { max: 3, timeWindow: '1m' } } }));
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await app.inject('/v1/views')).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const limited = await app.inject('/v1/views');
      expect(limited.json()).toMatchObject({ statusCode: 429, message: expect.stringContaining('rate limit exceeded') });
      expect(limited.headers['retry-after']).toBeDefined();
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('sheds load with a 503 and Retry-After when the event loop is blocked', async () => {
    const app = await server(testConfig(), { pressure: { maxEventLoopDelay: 20, sampleInterval: 5 } });
    try {
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // Hold the event loop, as a pathological request would.
      }
      await new Promise((r) => setTimeout(r, 20));
      const res = await app.inject('/v1/views');
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await app.close();
    }
  });
});
