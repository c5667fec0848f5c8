/**
 * The serving layer through a real socket: version swaps under concurrent
 * queries return only whole answers, the freshness endpoint reads the
 * consumer lag from the real Kafka broker, and `pulse serve` runs as a
 * process until SIGTERM.
 */
import { Kafka, logLevel } from 'kafkajs';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, KafkaLagSource, type PulseServer } from '../src/serving/index.js';
import { openStore, type ObjectStore } from '../src/storage/index.js';
import { recompute, HOUR, MINUTE, publishBatch, publishCheckpoint, seededReadings, testConfig, testConfigInput, type Reading } from './serving-fixtures.js';
import { expectSameRows, tableRows, type JsonRow } from './serving-expect.js';
import { kafkaBrokers, uniqueName } from './support/services.js';

const START = Date.UTC(2026, 2, 1, 0);
const PARTITIONS = 3;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Answer {
  boundary: string;
  rows: JsonRow[];
  freshness: { completeThrough: string | null };
}

describe('version swaps under concurrent queries (real socket)', () => {
  let dir: string;
  let store: ObjectStore;
  let app: PulseServer;
  let base: string;
  const config = testConfig();
  const events: Reading[] = seededReadings(4000, START, 6 * HOUR, 6, 3, 5);
  const byPartition = Array.from({ length: PARTITIONS }, (_, p) => events.filter((_, i) => i % PARTITIONS === p));

  /**
   * Version k moves the boundary to START + (60 + 10k) minutes, the way a
   * nightly batch run and the speed layer do it: the manifest first, then
   * each partition's checkpoint (which evicts through the new T).
   */
  const boundaryOf = (k: number) => START + (60 + 10 * k) * MINUTE;

  async function publishVersion(k: number): Promise<number> {
    const T = boundaryOf(k);
    await publishBatch(store, config, events, T, `v${k}`);
    for (let p = 0; p < PARTITIONS; p++) {
      await publishCheckpoint(store, config, { topic: 'events', partition: p, seq: k, applied: T, events: byPartition[p] ?? [] });
    }
    return T;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pulse-serving-http-'));
    store = openStore(dir);
    await publishVersion(0);
    app = await buildServer({ config, store, lag: null, pollIntervalMs: 15 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every query in full from one version while versions change underneath', async () => {
    const full = recompute(config, events);
    const queries = [
      { view: 'by_device_1m', from: START, to: START + 6 * HOUR, extra: '&device=dev-2' },
      { view: 'by_site_5m', from: START + 30 * MINUTE, to: START + 4 * HOUR, extra: '&site=site-1' },
      { view: 'total_1m', from: START, to: START + 6 * HOUR, extra: '&granularity=1h' },
      { view: 'device_sessions', from: START, to: START + 6 * HOUR, extra: '&device=dev-4' },
    ];
    const expected = queries.map((q) => {
      const groups: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(q.extra.slice(1))) if (k !== 'granularity') groups[k] = v;
      const granularityMs = q.extra.includes('granularity=1h') ? HOUR : undefined;
      return tableRows(full.query(q.view, { from: q.from, to: q.to, groups, ...(granularityMs ? { granularityMs } : {}) }));
    });

    let publishing = true;
    const boundaries = new Set<string>([new Date(boundaryOf(0)).toISOString()]);
    const publisher = (async () => {
      try {
        for (let k = 1; k <= 12; k++) {
          boundaries.add(new Date(boundaryOf(k)).toISOString());
          await publishVersion(k);
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        publishing = false;
      }
    })();

    const seen = new Set<string>();
    const checked = new Set<string>();
    let answers = 0;
    const client = async (c: number) => {
      for (let i = 0; publishing || i < 3; i++) {
        const qi = (c + i) % queries.length;
        const q = queries[qi]!;
        const res = await fetch(`${base}/v1/views/${q.view}?from=${new Date(q.from).toISOString()}&to=${new Date(q.to).toISOString()}${q.extra}`);
        expect(res.status, res.status === 200 ? "" : await res.text()).toBe(200);
        const body = (await res.json()) as Answer;
        seen.add(res.headers.get('pulse-version') ?? '');
        expect(boundaries.has(body.boundary), body.boundary).toBe(true);
        // Versions share most answers: check each distinct one once.
        const key = `${qi} ${body.freshness.completeThrough} ${JSON.stringify(body.rows)}`;
        if (!checked.has(key)) {
          const completeThrough = body.freshness.completeThrough === null ? null : Date.parse(body.freshness.completeThrough);
          expectSameRows(body.rows, expected[qi]!, completeThrough, ['window_start', 'window_end'], `${q.view} during swaps`);
          checked.add(key);
        }
        answers++;
      }
    };
    // Wait for every client and the publisher even when one fails, so nothing writes to the store after the test.
    const outcomes = await Promise.allSettled([publisher, ...Array.from({ length: 8 }, (_, c) => client(c))]);
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
    expect(answers).toBeGreaterThan(40);
    // The swaps happened while the clients were asking.
    expect(seen.size).toBeGreaterThan(3);
  }, 120_000);
});

describe('freshness with consumer lag from Kafka', () => {
  let dir: string;
  let app: PulseServer;
  const topic = uniqueName('serving-lag');

  beforeAll(async () => {
    const kafka = new Kafka({ clientId: 'serving-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ partition: i % 2, value: `{"n":${i}}` })) });
    await producer.disconnect();

    dir = await mkdtemp(join(tmpdir(), 'pulse-serving-lag-'));
    const store = openStore(dir);
    const config = testConfig();
    const events = seededReadings(200, START, HOUR, 3, 2, 9);
    // Partition 0 has consumed 10 of its 15 messages, partition 1 all 15.
    await publishCheckpoint(store, config, { topic, partition: 0, seq: 1, applied: -8.64e15, events: events.slice(0, 100), offset: 10 });
    await publishCheckpoint(store, config, { topic, partition: 1, seq: 1, applied: -8.64e15, events: events.slice(100), offset: 15 });
    app = await buildServer({ config, store, lag: new KafkaLagSource({ brokers: kafkaBrokers() }), pollIntervalMs: 60_000 });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the messages past each partition checkpoint', async () => {
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const res = await fetch(`http://127.0.0.1:${address.port}/v1/views/by_device_1m/freshness`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { consumerLag: number; partitions: { partition: number; lag: number }[]; batchCoverageEnd: string | null };
    expect(body.consumerLag).toBe(5);
    expect(body.partitions.map((p) => [p.partition, p.lag])).toEqual([
      [0, 5],
      [1, 0],
    ]);
    expect(body.batchCoverageEnd).toBeNull();
  });
});

describe('pulse serve', () => {
  it('serves the configured views until SIGTERM, then exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pulse-serve-cli-'));
    try {
      const store = openStore(join(dir, 'store'));
      const config = testConfig();
      const events = seededReadings(300, START, HOUR, 3, 2, 21);
      await publishBatch(store, config, events, START + 30 * MINUTE, 'v1');
      const file = join(dir, 'pulse.config.json');
      await writeFile(file, JSON.stringify({ ...testConfigInput(), batch: { viewStore: join(dir, 'store') } }));
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', file, '--port', '0', '--poll-interval', '200ms'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PULSE_LOG_LEVEL: 'info' },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pulse serve did not start: ${stderr}`)), 60_000);
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (t: string) => {
          out += t;
          const m = /"address":"(http:\/\/[^"]+)"/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1] as string);
          }
        });
        void exited.then((code) => reject(new Error(`pulse serve exited with ${code}: ${stderr}`)));
      });
      expect((await fetch(`${address}/readyz`)).status).toBe(200);
      const res = await fetch(`${address}/v1/views/total_1m?from=${new Date(START).toISOString()}&to=${new Date(START + HOUR).toISOString()}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { boundary: string; rows: unknown[] };
      expect(body.boundary).toBe(new Date(START + 30 * MINUTE).toISOString());
      const minutes = new Set(events.filter((e) => e.ts < START + 30 * MINUTE && e.site !== 'site-0').map((e) => Math.floor(e.ts / MINUTE)));
      expect(body.rows.length).toBe(minutes.size);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
