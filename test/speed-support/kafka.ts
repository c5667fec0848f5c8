/**
 * Kafka and store helpers of the speed suites: topics per test, producing
 * readings to chosen partitions, reading the DLQ back, waiting until the
 * speed layer's checkpoints reach the end of the topic, and reading what
 * the checkpoints and the archive hold.
 */
import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { Kafka as KafkaClient, logLevel, Partitioners } from 'kafkajs';
import type { Table } from 'apache-arrow';
import { Pipeline } from '../../src/core/pipeline.js';
import type { Checkpoint } from '../../src/speed/checkpoint.js';
import type { SpeedStore } from '../../src/speed/ports.js';
import { readJson } from '../../src/speed/ports.js';
import { waitFor } from './wait.js';

export { waitFor } from './wait.js';

export function testKafka(brokers: string[]): Kafka {
  return new KafkaClient({ clientId: 'pulse-speed-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
}

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
}

/** End offset of each partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

export interface Outgoing {
  partition: number;
  value: string | null;
  key?: string;
  headers?: IHeaders;
}

/** Produces in order, per partition, in chunks; acks from all replicas. */
export async function produceAll(producer: Producer, topic: string, records: Outgoing[], chunk = 1000): Promise<void> {
  for (let i = 0; i < records.length; i += chunk) {
    await producer.send({
      topic,
      acks: -1,
      messages: records.slice(i, i + chunk).map((r) => ({ partition: r.partition, key: r.key ?? null, value: r.value, headers: r.headers })),
    });
  }
}

export function testProducer(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1, idempotent: true });
}

export interface DlqMessage {
  partition: number;
  offset: number;
  value: string | null;
  headers: Record<string, string>;
}

/** Every message of a topic, read with a throwaway consumer group until the end offsets. */
export async function readTopic(kafka: Kafka, admin: Admin, topic: string, timeoutMs = 30_000): Promise<DlqMessage[]> {
  const ends = await endOffsets(admin, topic);
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const out: DlqMessage[] = [];
  if (total === 0) return out;
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
        out.push({ partition, offset: Number(message.offset), value: message.value?.toString('utf8') ?? null, headers });
      },
    });
    await waitFor(`${total} messages of ${topic}`, timeoutMs, async () => (out.length >= total ? true : undefined));
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Checkpoints of the topic's partitions, once every one has reached the partition's end offset. */
export async function waitForDrain(store: SpeedStore, admin: Admin, topic: string, timeoutMs: number): Promise<Checkpoint[]> {
  const ends = await endOffsets(admin, topic);
  return waitFor(`checkpoints of ${topic} to reach ${JSON.stringify([...ends])}`, timeoutMs, async () => {
    const checkpoints: Checkpoint[] = [];
    for (const [partition, end] of ends) {
      const checkpoint = await readJson<Checkpoint>(store, `realtime/${topic}-${partition}/checkpoint.json`);
      if (end === 0) continue;
      if (!checkpoint || Number(checkpoint.offset) < end) return undefined;
      checkpoints.push(checkpoint);
    }
    return checkpoints;
  });
}

/** The views of all partitions' checkpoints, merged into one pipeline, as the serving layer would. */
export async function mergedViews(store: SpeedStore, spec: Parameters<typeof Pipeline.create>[0], checkpoints: Checkpoint[]): Promise<Pipeline> {
  const merged = Pipeline.create(spec);
  for (const checkpoint of checkpoints) {
    const part = Pipeline.create(spec);
    for (const [view, key] of Object.entries(checkpoint.views)) part.restore(view, await store.getBytes(key));
    merged.merge(part);
  }
  return merged;
}

export type Row = Record<string, unknown>;

/** Query result rows with times as epoch ms. */
export function rows(table: Table): Row[] {
  return table.toArray().map((r: { toJSON(): Row }) => {
    const row = r.toJSON();
    for (const k of ['window_start', 'window_end']) if (row[k] !== undefined && row[k] !== null) row[k] = Number(row[k]);
    return row;
  });
}

/** Every archived line of a topic, with the object it came from. */
export async function archivedLines(store: SpeedStore, topic: string): Promise<{ key: string; partition: number; first: number; last: number; lines: string[] }[]> {
  const out = [];
  for await (const { key } of store.list(`source=kafka/topic=${topic}/`)) {
    const m = /\/(\d+)-(\d+)-(\d+)\.ndjson$/.exec(key);
    if (!m) continue;
    const text = (await store.getBytes(key)).toString('utf8');
    out.push({ key, partition: Number(m[1]), first: Number(m[2]), last: Number(m[3]), lines: text.split('\n').filter((l) => l.length > 0) });
  }
  return out;
}
