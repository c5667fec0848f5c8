/**
 * Consumer lag of the realtime views: for each partition, how many messages
 * the topic holds past the offset the partition's checkpoint reached. The
 * end offsets come from the Kafka admin API; they are cached briefly so a
 * busy freshness endpoint does not become load on the brokers.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the checkpoint will consume. */
  offset: string;
  /** The topic's end offset (high watermark) for this partition. */
  endOffset: string;
  /** endOffset − offset, never negative. */
  lag: number;
}

export interface LagSource {
  /** End offsets per partition of a topic. */
  endOffsets(topic: string): Promise<Map<number, string>>;
  close(): Promise<void>;
}

export interface KafkaLagOptions {
  brokers: string[];
  clientId?: string;
  /** How long end offsets are reused (default 2000 ms). */
  cacheMs?: number;
  /** Bound on one admin request (default 3000 ms). */
  timeoutMs?: number;
}

/** End offsets from Kafka's admin API (`fetchTopicOffsets`), cached per topic. */
export class KafkaLagSource implements LagSource {
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;
  private readonly cache = new Map<string, { at: number; offsets: Promise<Map<number, string>> }>();
  private readonly cacheMs: number;

  constructor(options: KafkaLagOptions) {
    const timeout = options.timeoutMs ?? 3000;
    this.kafka = new Kafka({
      clientId: `${options.clientId ?? 'pulse'}-serving`,
      brokers: options.brokers,
      connectionTimeout: timeout,
      requestTimeout: timeout,
      retry: { retries: 1 },
      logLevel: logLevel.NOTHING,
    });
    this.cacheMs = options.cacheMs ?? 2000;
  }

  endOffsets(topic: string): Promise<Map<number, string>> {
    const hit = this.cache.get(topic);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.offsets;
    const offsets = this.fetch(topic);
    this.cache.set(topic, { at: Date.now(), offsets });
    offsets.catch(() => this.cache.delete(topic));
    return offsets;
  }

  private async fetch(topic: string): Promise<Map<number, string>> {
    const admin = await this.connect();
    const entries = await admin.fetchTopicOffsets(topic);
    return new Map(entries.map((e) => [e.partition, e.high]));
  }

  private connect(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        this.connecting = undefined;
        throw err;
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect();
  }
}

/** Lag of each checkpointed partition against the topic's end offsets. */
export async function partitionLags(source: LagSource, partitions: readonly { topic: string; partition: number; offset: string }[]): Promise<PartitionLag[]> {
  const topics = [...new Set(partitions.map((p) => p.topic))];
  const ends = new Map(await Promise.all(topics.map(async (t) => [t, await source.endOffsets(t)] as const)));
  return partitions.map((p) => {
    const endOffset = ends.get(p.topic)?.get(p.partition) ?? p.offset;
    const lag = BigInt(endOffset) - BigInt(p.offset);
    return { topic: p.topic, partition: p.partition, offset: p.offset, endOffset, lag: lag > 0n ? Number(lag) : 0 };
  });
}
