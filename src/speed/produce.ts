/**
 * The load generator behind `pulse produce`: demo readings (valid, plus a
 * configurable share of invalid ones) written to a Kafka topic
 *
 * - as realistic trickles: independent producers, each sending a random
 *   number of records on its own period (by default 1–10 every 0.5 s and
 *   5–20 every 1 s);
 * - at a fixed rate (events per second, sent in small batches every tick);
 * - or as fast as the broker acknowledges (several sends in flight).
 *
 * Messages are keyed by device, so one device's readings stay in order on
 * one partition.
 */
import type { Message, Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GeneratedReading, ReadingKind } from './generator.js';
import { ReadingGenerator } from './generator.js';
import { createKafka } from './kafka-source.js';
import type { SpeedLogger } from './ports.js';
import { silentLogger } from './ports.js';

/** One trickling producer: `min`–`max` records every `everyMs`. */
export interface Trickle {
  min: number;
  max: number;
  everyMs: number;
}

export const DEFAULT_TRICKLES: Trickle[] = [
  { min: 1, max: 10, everyMs: 500 },
  { min: 5, max: 20, everyMs: 1_000 },
];

export type ProduceMode = { kind: 'trickle'; trickles: Trickle[] } | { kind: 'rate'; eventsPerSecond: number } | { kind: 'max' };

export interface ProduceOptions {
  brokers: string[];
  topic: string;
  mode: ProduceMode;
  /** Stop after this many records (default: until `durationMs` or the signal). */
  count?: number;
  durationMs?: number;
  signal?: AbortSignal;
  invalidShare?: number;
  seed?: number;
  /** Records per send in rate and max modes (default 500). */
  batchSize?: number;
  /** Sends in flight in max mode (default 4). */
  inFlight?: number;
  clientId?: string;
  logger?: SpeedLogger;
  /** Sees every record once its send was acknowledged. */
  onSent?: (records: GeneratedReading[]) => void;
}

export interface ProduceReport {
  sent: number;
  byKind: Record<ReadingKind, number>;
  durationMs: number;
  eventsPerSecond: number;
}

class Budget {
  sent = 0;
  /** Records claimed by sends, acknowledged or in flight. */
  claimed = 0;
  readonly byKind: Record<ReadingKind, number> = { valid: 0, malformed_json: 0, type_mismatch: 0, rule_violation: 0 };
  private readonly deadline: number;

  constructor(
    private readonly options: ProduceOptions,
    started: number,
  ) {
    this.deadline = options.durationMs === undefined ? Infinity : started + options.durationMs;
  }

  /** Claims up to `wanted` records for one send (0: done). */
  claim(wanted: number): number {
    if (this.options.signal?.aborted || Date.now() >= this.deadline) return 0;
    const left = this.options.count === undefined ? Infinity : this.options.count - this.claimed;
    const n = Math.max(0, Math.min(wanted, left));
    this.claimed += n;
    return n;
  }

  record(records: GeneratedReading[]): void {
    this.sent += records.length;
    for (const r of records) this.byKind[r.kind] += 1;
    this.options.onSent?.(records);
  }
}

function toMessages(records: GeneratedReading[], now: number): Message[] {
  return records.map((r) => ({ key: r.reading.device, value: r.line, timestamp: String(now) }));
}

async function sendBatch(producer: Producer, topic: string, generator: ReadingGenerator, budget: Budget, wanted: number): Promise<number> {
  const n = budget.claim(wanted);
  if (n === 0) return 0;
  const now = Date.now();
  const records = Array.from({ length: n }, () => generator.next(now));
  await producer.send({ topic, acks: -1, messages: toMessages(records, now) });
  budget.record(records);
  return n;
}

/** Writes demo readings to the topic until the count, the duration or the signal ends it. */
export async function produce(options: ProduceOptions): Promise<ProduceReport> {
  const logger = options.logger ?? silentLogger;
  const kafka = createKafka({ brokers: options.brokers, clientId: options.clientId ?? 'pulse-produce', logger });
  const started = Date.now();
  const budget = new Budget(options, started);
  const seed = options.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const producers: Producer[] = [];
  const connect = async (): Promise<Producer> => {
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    producers.push(producer);
    return producer;
  };
  try {
    const mode = options.mode;
    if (mode.kind === 'trickle') {
      await Promise.all(
        mode.trickles.map(async (trickle, i) => {
          const producer = await connect();
          const generator = new ReadingGenerator({ seed: seed + i, invalidShare: options.invalidShare, idPrefix: `t${i}` });
          for (;;) {
            const wanted = trickle.min + Math.floor(Math.random() * (trickle.max - trickle.min + 1));
            if ((await sendBatch(producer, options.topic, generator, budget, wanted)) === 0) return;
            await sleep(trickle.everyMs, undefined, { signal: options.signal }).catch(() => {});
          }
        }),
      );
    } else if (mode.kind === 'rate') {
      const producer = await connect();
      const generator = new ReadingGenerator({ seed, invalidShare: options.invalidShare, idPrefix: 'r' });
      const batchSize = options.batchSize ?? 500;
      // Sends what the rate owes since the start, at most a batch at a time.
      for (;;) {
        const owed = Math.floor(((Date.now() - started) / 1000) * mode.eventsPerSecond) - budget.claimed;
        if (owed <= 0) {
          if (options.signal?.aborted || (options.durationMs !== undefined && Date.now() - started >= options.durationMs)) break;
          await sleep(Math.min(50, Math.max(1, 1000 / mode.eventsPerSecond)));
          continue;
        }
        if ((await sendBatch(producer, options.topic, generator, budget, Math.min(owed, batchSize))) === 0) break;
      }
    } else {
      const inFlight = options.inFlight ?? 4;
      const batchSize = options.batchSize ?? 500;
      await Promise.all(
        Array.from({ length: inFlight }, async (_, i) => {
          const producer = await connect();
          const generator = new ReadingGenerator({ seed: seed + i, invalidShare: options.invalidShare, idPrefix: `m${i}` });
          while ((await sendBatch(producer, options.topic, generator, budget, batchSize)) > 0) {
            /* as fast as acknowledgements come back */
          }
        }),
      );
    }
  } finally {
    await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
  }
  const durationMs = Date.now() - started;
  logger.info({ sent: budget.sent, durationMs }, 'produce finished');
  return { sent: budget.sent, byKind: budget.byKind, durationMs, eventsPerSecond: budget.sent / Math.max(durationMs / 1000, 1e-3) };
}
