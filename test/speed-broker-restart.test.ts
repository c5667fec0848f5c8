/**
 * The broker goes away mid-stream and comes back: the speed layer rides
 * through (fetches, DLQ produces and offset commits fail meanwhile),
 * reconnects, and loses nothing. Runs on a private broker started for this
 * suite on other ports, so the shared test broker is never restarted.
 */
import type { Admin, Kafka } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../src/speed/checkpoint.js';
import { readJson } from '../src/speed/ports.js';
import { openStore } from '../src/storage/index.js';
import { createTestBucket, type TestBucket } from './support/s3.js';
import { uniqueName } from './support/services.js';
import { PrivateBroker } from './speed-support/broker.js';
import { archivedLines, createTopic, mergedViews, produceAll, readTopic, rows, testKafka, testProducer, waitFor, waitForDrain } from './speed-support/kafka.js';
import { Scenario } from './speed-support/scenario.js';
import { LATENESS_MS, pipelineSpec } from './speed-support/spec.js';
import { startWorker } from './speed-support/worker.js';

const PARTITIONS = 3;
const PORT = Number(process.env.PULSE_SPEED_RESTART_KAFKA_PORT ?? 39292);

describe('speed layer across a broker restart', () => {
  let broker: PrivateBroker;
  let kafka: Kafka;
  let admin: Admin;
  let bucket: TestBucket;

  beforeAll(async () => {
    broker = PrivateBroker.start(PORT);
    kafka = testKafka(broker.brokers);
    admin = kafka.admin();
    await admin.connect();
    bucket = await createTestBucket('speed-restart');
  }, 300_000);

  afterAll(async () => {
    await admin?.disconnect().catch(() => {});
    await broker?.stop();
    await bucket?.remove();
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`reconnects after the broker is stopped with ${signal} and restarted, losing nothing`, { timeout: 300_000 }, async () => {
      const topic = uniqueName(`speed-restart-${signal.toLowerCase()}`);
      await createTopic(admin, topic, PARTITIONS);
      const views = openStore(`s3://${bucket.name}/${topic}/store`);
      const archive = openStore(`s3://${bucket.name}/${topic}/raw`);
      const scenario = new Scenario(PARTITIONS, signal === 'SIGKILL' ? 31 : 32);
      let producer = testProducer(kafka);
      await producer.connect();
      const { worker, done } = await startWorker({ brokers: broker.brokers, topic, groupId: `${topic}-g`, stores: { views, archive } });
      try {
        await produceAll(producer, topic, scenario.readings(3000));
        // Wait until the worker is part-way through, then take the broker away.
        await waitFor('a first checkpoint', 60_000, async () => {
          const c = await readJson<Checkpoint>(views, `realtime/${topic}-0/checkpoint.json`);
          return c && c.seq >= 1 ? c : undefined;
        });
        await producer.disconnect();
        await broker.kill(signal);
        await sleep(4_000);
        await broker.restart();
        producer = testProducer(kafka);
        await producer.connect();
        await produceAll(producer, topic, scenario.readings(3000));
        const checkpoints = await waitForDrain(views, admin, topic, 150_000);
        const { applied } = scenario.outcome(LATENESS_MS);
        const merged = await mergedViews(views, pipelineSpec(), checkpoints);
        const device = rows(merged.query('device_1m', { from: 0, to: Number.MAX_SAFE_INTEGER }));
        expect(device.reduce((n, r) => n + Number(r.n), 0)).toBe(applied.length);
        const objects = await archivedLines(archive, topic);
        expect(objects.flatMap((o) => o.lines).sort()).toEqual(scenario.sent.map((s) => s.value!).sort());
      } finally {
        await worker.stop();
        await done;
        await producer.disconnect().catch(() => {});
      }
      const dlq = await readTopic(kafka, admin, `${topic}.dlq`);
      const rejected = new Set(scenario.sent.filter((s) => s.expect !== 'apply').map((s) => `${s.partition}/${s.offset}`));
      expect(new Set(dlq.map((m) => `${m.headers['pulse-source-partition']}/${m.headers['pulse-source-offset']}`))).toEqual(rejected);
    });
  }
});
