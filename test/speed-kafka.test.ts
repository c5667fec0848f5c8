/**
 * The speed layer on the real broker and the real S3 server: views equal a
 * TypeScript reference over the same events, every rejected message is on
 * the DLQ with its reason, every message is archived exactly once, the time
 * boundary evicts, and two workers in one group share the partitions.
 */
import type { Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/storage/index.js';
import type { Checkpoint } from '../src/speed/checkpoint.js';
import { DLQ_HEADERS } from '../src/speed/dead-letters.js';
import type { SpeedStore } from '../src/speed/ports.js';
import { readJson, writeJson } from '../src/speed/ports.js';
import type { ArchiveProgress } from '../src/speed/archive.js';
import { createTestBucket, type TestBucket } from './support/s3.js';
import { kafkaBrokers, uniqueName } from './support/services.js';
import { archivedLines, createTopic, endOffsets, mergedViews, produceAll, readTopic, rows, testKafka, testProducer, waitFor, waitForDrain } from './speed-support/kafka.js';
import { Scenario } from './speed-support/scenario.js';
import { LATENESS_MS, pipelineSpec, referenceDeviceMinutes, referenceSiteCounts, WINDOW_MS } from './speed-support/spec.js';
import type { Reading } from '../src/speed/generator.js';
import { startWorker } from './speed-support/worker.js';

const PARTITIONS = 3;
const DRAIN_MS = 90_000;

/** Compares the merged `device_1m` and `site_5m` states with the reference over `applied`. */
async function expectViewsMatch(store: SpeedStore, checkpoints: Checkpoint[], applied: Reading[], from = 0): Promise<void> {
  const merged = await mergedViews(store, pipelineSpec(), checkpoints);
  const device = rows(merged.query('device_1m', { from, to: Number.MAX_SAFE_INTEGER }));
  const expected = referenceDeviceMinutes(applied.filter((r) => r.ts >= from));
  expect(device.length).toBe(expected.size);
  for (const row of device) {
    const ref = expected.get(`${row.window_start}|${row.device}`);
    expect(ref, `window ${row.window_start} of ${row.device}`).toBeDefined();
    expect(row.window_end).toBe(row.window_start! as number + WINDOW_MS);
    expect(Number(row.n)).toBe(ref!.n);
    expect(Number(row.readings)).toBe(ref!.readings);
    expect(Number(row.charge)).toBe(ref!.charge);
    expect(row.lo).toBe(ref!.lo);
    expect(row.hi).toBe(ref!.hi);
    if (ref!.readings > 0) expect(Math.abs((row.mean as number) - ref!.sum / ref!.readings)).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref!.sum)));
  }
  const site = rows(merged.query('site_5m', { from, to: Number.MAX_SAFE_INTEGER }));
  const siteRef = referenceSiteCounts(applied.filter((r) => r.ts >= from));
  const siteRefFrom = new Map([...siteRef].filter(([k]) => Number(k.split('|')[0]) >= from));
  expect(new Map(site.map((r) => [`${r.window_start}|${r.site}`, Number(r.n)]))).toEqual(siteRefFrom);
}

describe('speed layer on Kafka', () => {
  const brokers = kafkaBrokers();
  let kafka: Kafka;
  let admin: Admin;
  let bucket: TestBucket;
  let views: SpeedStore;
  let archive: SpeedStore;

  beforeAll(async () => {
    kafka = testKafka(brokers);
    admin = kafka.admin();
    await admin.connect();
    bucket = await createTestBucket('speed');
    views = openStore(`s3://${bucket.name}/store`);
    archive = openStore(`s3://${bucket.name}/lake/raw`);
  });

  afterAll(async () => {
    await admin?.disconnect();
    await bucket?.remove();
  });

  it('builds views equal to the reference, dead-letters every reject with its reason, archives each message once', async () => {
    const topic = uniqueName('speed-views');
    await createTopic(admin, topic, PARTITIONS);
    const producer = testProducer(kafka);
    await producer.connect();
    const scenario = new Scenario(PARTITIONS, 11);
    const { worker, done } = await startWorker({ brokers, topic, groupId: `${topic}-g`, stores: { views, archive } });
    try {
      await produceAll(producer, topic, scenario.readings(4000));
      await produceAll(producer, topic, [...scenario.emptyMessages(), ...scenario.lateReadings(4, 2 * 3600_000)]);
      await produceAll(producer, topic, scenario.readings(2000));
      const checkpoints = await waitForDrain(views, admin, topic, DRAIN_MS);
      const { applied, late } = scenario.outcome(LATENESS_MS);
      expect(late.size).toBe(4 * PARTITIONS);
      await expectViewsMatch(views, checkpoints, applied);
      expect(worker.counts.applied).toBe(applied.length);
    } finally {
      await worker.stop();
      await done;
      await producer.disconnect();
    }

    // The DLQ: one message per rejected message, original value, the reason in headers.
    const dlq = await readTopic(kafka, admin, `${topic}.dlq`);
    const rejected = scenario.sent.filter((s) => s.expect !== 'apply');
    expect(dlq.length).toBe(rejected.length);
    const bySource = new Map(dlq.map((m) => [`${m.headers[DLQ_HEADERS.sourcePartition]}/${m.headers[DLQ_HEADERS.sourceOffset]}`, m]));
    for (const s of rejected) {
      const letter = bySource.get(`${s.partition}/${s.offset}`);
      expect(letter, `dead letter of ${s.partition}/${s.offset} (${s.expect})`).toBeDefined();
      expect(letter!.value).toBe(s.value);
      expect(letter!.headers[DLQ_HEADERS.kind]).toBe(s.expect);
      expect(letter!.headers[DLQ_HEADERS.reason]!.length).toBeGreaterThan(0);
      expect(letter!.headers[DLQ_HEADERS.sourceTopic]).toBe(topic);
      expect(Number.isFinite(Date.parse(letter!.headers[DLQ_HEADERS.time]!))).toBe(true);
      if (s.expect === 'rule_failed') expect(letter!.headers[DLQ_HEADERS.ruleIds]!.split(',')).toContain(s.generated!.ruleId);
    }

    // The archive: every offset of every partition in exactly one object, lines in offset order.
    const objects = await archivedLines(archive, topic);
    const ends = await endOffsets(admin, topic);
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = objects.filter((o) => o.partition === p).sort((a, b) => a.first - b.first);
      let next = 0;
      for (const o of mine) {
        expect(o.first).toBe(next);
        next = o.last + 1;
      }
      expect(next).toBe(ends.get(p));
      const expected = scenario.sent.filter((s) => s.partition === p && s.value !== null && s.value.trim() !== '').map((s) => s.value);
      expect(mine.flatMap((o) => o.lines)).toEqual(expected);
      const progress = await readJson<ArchiveProgress>(archive, `_progress/topic=${topic}/partition=${p}.json`);
      expect(progress?.offset).toBe(String(ends.get(p)));
      expect(progress?.watermark).toBeGreaterThan(Date.now() - 3600_000);
    }
  });

  it('drops realtime state before a new batch coverage end and keeps events after it', async () => {
    const topic = uniqueName('speed-boundary');
    await createTopic(admin, topic, PARTITIONS);
    const producer = testProducer(kafka);
    await producer.connect();
    const scenario = new Scenario(PARTITIONS, 12, 0);
    const start = Math.floor((Date.now() - 20 * WINDOW_MS) / WINDOW_MS) * WINDOW_MS;
    const boundary = start + 8 * WINDOW_MS;
    const { worker, done } = await startWorker({ brokers, topic, groupId: `${topic}-g`, stores: { views, archive } });
    try {
      // Ten minutes of readings, then a batch view covering the first eight.
      await produceAll(producer, topic, Array.from({ length: 10 }, (_, m) => scenario.readings(150, start + m * WINDOW_MS + WINDOW_MS - 1)).flat());
      await waitForDrain(views, admin, topic, DRAIN_MS);
      for (const view of ['device_1m', 'site_5m']) await writeJson(views, `views/${view}/batch/manifest.json`, { view, coverageEnd: boundary });
      const evicted = await waitFor('checkpoints with the new batch coverage', DRAIN_MS, async () => {
        const all = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => readJson<Checkpoint>(views, `realtime/${topic}-${p}/checkpoint.json`)));
        return all.every((c) => c?.batchCoverage.device_1m === boundary && c.batchCoverage.site_5m === boundary) ? all : undefined;
      });
      // Readings before the boundary arriving now stay out of the realtime views.
      await produceAll(producer, topic, [...scenario.readings(300, start + 5 * WINDOW_MS), ...scenario.readings(300, start + 12 * WINDOW_MS)]);
      await waitForDrain(views, admin, topic, DRAIN_MS);
      const checkpoints = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => readJson<Checkpoint>(views, `realtime/${topic}-${p}/checkpoint.json`)));
      for (const c of [...evicted, ...checkpoints]) expect(c?.batchCoverage).toEqual({ device_1m: boundary, site_5m: boundary });
      const { applied } = scenario.outcome(24 * 3600_000);
      const merged = await mergedViews(views, pipelineSpec(), checkpoints as Checkpoint[]);
      expect(rows(merged.query('device_1m', { from: 0, to: boundary }))).toEqual([]);
      await expectViewsMatch(views, checkpoints as Checkpoint[], applied, boundary);
    } finally {
      await worker.stop();
      await done;
      await producer.disconnect();
    }
  });

  it('pauses fetching while a partition is behind and still counts every event once', async () => {
    const topic = uniqueName('speed-backpressure');
    await createTopic(admin, topic, PARTITIONS);
    const producer = testProducer(kafka);
    await producer.connect();
    const scenario = new Scenario(PARTITIONS, 14);
    await produceAll(producer, topic, scenario.readings(9000));
    await producer.disconnect();
    const { worker, done } = await startWorker({
      brokers,
      topic,
      groupId: `${topic}-g`,
      stores: { views, archive },
      extra: { maxBatchRecords: 100, maxPendingRecords: 300 },
    });
    try {
      const checkpoints = await waitForDrain(views, admin, topic, DRAIN_MS);
      expect(worker.counts.pauses).toBeGreaterThan(0);
      const { applied } = scenario.outcome(LATENESS_MS);
      await expectViewsMatch(views, checkpoints, applied);
    } finally {
      await worker.stop();
      await done;
    }
  });

  it('lets two workers in one group share the partitions across rebalances, counting each event once', async () => {
    const topic = uniqueName('speed-group');
    await createTopic(admin, topic, 4);
    const producer = testProducer(kafka);
    await producer.connect();
    const scenario = new Scenario(4, 13);
    const groupId = `${topic}-g`;
    const a = await startWorker({ brokers, topic, groupId, stores: { views, archive } });
    let b: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      await produceAll(producer, topic, scenario.readings(2000));
      // A holds a pipeline for each of the four partitions before B joins.
      await waitFor('A to restore all four partitions', 30_000, async () => (a.pipelines.length >= 4 && a.worker.ownedPartitions().length === 4) || undefined, 50);
      b = await startWorker({ brokers, topic, groupId, stores: { views, archive } });
      await produceAll(producer, topic, scenario.readings(2000));
      // Both own partitions once the rebalance settles.
      const deadline = Date.now() + 30_000;
      while ((a.worker.ownedPartitions().length === 0 || b.worker.ownedPartitions().length === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(a.worker.ownedPartitions().length + b.worker.ownedPartitions().length).toBe(4);
      expect(a.worker.ownedPartitions().length).toBeGreaterThan(0);
      await produceAll(producer, topic, scenario.readings(2000));
      // A freed the states of the partitions it gave up: no more open pipelines than partitions it owns.
      expect(a.pipelines.filter((p) => !p.closed).length).toBeLessThanOrEqual(a.worker.ownedPartitions().length);
      // A leaves gracefully: its partitions move to B with their checkpoints.
      await a.worker.stop();
      await a.done;
      expect(a.pipelines.every((p) => p.closed)).toBe(true);
      await produceAll(producer, topic, scenario.readings(2000));
      const checkpoints = await waitForDrain(views, admin, topic, DRAIN_MS);
      expect(b.worker.ownedPartitions()).toEqual([0, 1, 2, 3]);
      const { applied } = scenario.outcome(LATENESS_MS);
      await expectViewsMatch(views, checkpoints, applied);
      const objects = await archivedLines(archive, topic);
      expect(objects.flatMap((o) => o.lines).sort()).toEqual(scenario.sent.map((s) => s.value!).sort());
    } finally {
      await a.worker.stop();
      await b?.worker.stop();
      await Promise.all([a.done, b?.done]);
      await producer.disconnect();
    }
  });
});
