/**
 * Smoke test of the real Kafka broker the global setup started, through
 * kafkajs, the client the speed layer uses: a 3-partition topic, 100
 * messages in, the same 100 out of a consumer group, each exactly once.
 */
import type { Admin, Consumer, Producer } from 'kafkajs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, uniqueName } from './support/services.js';

const MESSAGES = 100;
const PARTITIONS = 3;
const CONSUME_DEADLINE_MS = 45_000;

describe('Kafka broker', () => {
  const kafka = new Kafka({ clientId: 'pulse-test', brokers: kafkaBrokers(), logLevel: logLevel.WARN });
  const topic = uniqueName('smoke');
  const groupId = uniqueName('smoke-group');
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    admin = kafka.admin();
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    consumer = kafka.consumer({ groupId });
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
  });

  afterAll(async () => {
    await Promise.allSettled([consumer?.disconnect(), producer?.disconnect()]);
    await admin?.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin?.disconnect();
  });

  it('carries 100 messages over 3 partitions to a consumer group, each exactly once', async () => {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(PARTITIONS);

    const sent = Array.from({ length: MESSAGES }, (_, i) => ({ key: `sensor-${i % 17}`, value: JSON.stringify({ seq: i }) }));
    const acks = await producer.send({ topic, acks: -1, messages: sent });
    expect(acks.map((a) => a.partition).sort()).toEqual([0, 1, 2]);
    expect(acks.every((a) => a.errorCode === 0)).toBe(true);

    const received = new Map<number, number>();
    const partitionsSeen = new Set<number>();
    let allIn: () => void = () => {};
    const done = new Promise<void>((resolve) => (allIn = resolve));
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const { seq } = JSON.parse(message.value?.toString() ?? '{}') as { seq: number };
        received.set(seq, (received.get(seq) ?? 0) + 1);
        partitionsSeen.add(partition);
        if (received.size === MESSAGES) allIn();
      },
    });

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`only ${received.size} of ${MESSAGES} messages arrived within ${CONSUME_DEADLINE_MS} ms`)),
        CONSUME_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([done, deadline]);
    } finally {
      clearTimeout(timer);
    }
    await consumer.stop();

    expect([...received.keys()].sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect([...partitionsSeen].sort()).toEqual([0, 1, 2]);

    // The group's committed offsets account for every message.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = (committed?.partitions ?? []).reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(MESSAGES);
  }, 60_000);
});
