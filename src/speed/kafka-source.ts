/**
 * Kafka as an event source, through a kafkajs consumer group: `eachBatch`
 * with manual offset handling (`autoCommit: false`,
 * `eachBatchAutoResolve: false`), so offsets reach Kafka only when the
 * worker commits a durable checkpoint.
 *
 * kafkajs has no on-assign or on-revoke hook. The worker learns its
 * partitions from the GROUP_JOIN event (emitted after the assignment is
 * installed and before the first fetch), pauses them until their checkpoint
 * is restored, then seeks each to its checkpoint's offset. Because kafkajs
 * never commits on its own here, the group's committed offset never passes
 * the checkpoint's, and anything fetched before the seek lands below the
 * worker's receive cursor and is dropped as a repeat. The REBALANCING event
 * stops checkpoints until the next join.
 */
import type { Consumer, EachBatchPayload, KafkaConfig, KafkaMessage } from 'kafkajs';
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { SpeedLogger } from './ports.js';
import { silentLogger } from './ports.js';
import type { EventSource, MessageHeaders, PartitionOffset, SourceHandler, SourceMessage } from './source.js';
import { FencedError } from './source.js';

/** kafkajs error types that mean the group generation this worker held is over. */
const GENERATION_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

export interface KafkaSourceOptions {
  brokers: string[];
  topic: string;
  groupId: string;
  clientId?: string;
  /** Where a group without committed offsets starts (default `earliest`). */
  startFrom?: 'earliest' | 'latest';
  /** Consumer session timeout: how soon a dead worker's partitions move (default 30 000 ms). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /** Most bytes fetched per partition per request (default 1 MiB). */
  maxBytesPerPartition?: number;
  /** Longest the broker holds a fetch waiting for data (default 500 ms). */
  maxWaitTimeMs?: number;
  logger?: SpeedLogger;
  /** Extra client settings (ssl, sasl, retry…). */
  client?: Partial<KafkaConfig>;
}

/** kafkajs log lines through the layer's logger. */
export function kafkaLogCreator(logger: SpeedLogger) {
  return () =>
    ({ level, log }: { level: number; log: { message: string } & Record<string, unknown> }) => {
      const { message, ...rest } = log;
      // kafkajs logs connection failures it recovers from as errors; what it
      // cannot recover from reaches the worker as a crash, logged there.
      if (level <= KafkaLogLevel.WARN) logger.warn(rest, `kafka: ${message}`);
      else logger.debug(rest, `kafka: ${message}`);
    };
}

/** A kafkajs client with the layer's logging. */
export function createKafka(options: { brokers: string[]; clientId?: string; logger?: SpeedLogger; client?: Partial<KafkaConfig> }): Kafka {
  return new Kafka({
    clientId: options.clientId ?? 'pulse',
    brokers: options.brokers,
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(options.logger ?? silentLogger),
    ...options.client,
  });
}

/**
 * A kafkajs message seen as a `SourceMessage`. kafkajs hands offsets and
 * timestamps over as strings; most messages only ever need their value, so
 * the numbers are parsed when first read rather than for every message.
 */
class KafkaSourceMessage implements SourceMessage {
  private parsedOffset = -1;
  constructor(private readonly message: KafkaMessage) {}

  get offset(): number {
    if (this.parsedOffset < 0) this.parsedOffset = Number(this.message.offset);
    return this.parsedOffset;
  }

  get value(): Buffer | null {
    return this.message.value;
  }

  get timestamp(): number {
    return Number(this.message.timestamp);
  }

  get key(): Buffer | null | undefined {
    return this.message.key;
  }

  get headers(): MessageHeaders | undefined {
    return this.message.headers;
  }
}

export class KafkaSource implements EventSource {
  readonly kind = 'kafka' as const;
  readonly topic: string;
  private readonly kafka: Kafka;
  private consumer: Consumer;
  private readonly logger: SpeedLogger;
  private handler: SourceHandler | undefined;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  /** The consumer has joined its group at least once (so the settings work). */
  private joined = false;
  private recovering: Promise<void> | undefined;
  /** Consumer crashes seen (kafkajs restarts the consumer, or this source replaces it). */
  crashes = 0;
  /** Consumers started again after kafkajs gave one up. */
  replacements = 0;

  constructor(private readonly options: KafkaSourceOptions) {
    this.topic = options.topic;
    this.logger = options.logger ?? silentLogger;
    this.kafka = createKafka({
      ...options,
      // Connection and coordinator lookups ride out a broker restart.
      client: { retry: { retries: 12, maxRetryTime: 5_000 }, ...options.client },
    });
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const o = this.options;
    return this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeout: o.rebalanceTimeoutMs ?? 60_000,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 1_048_576,
      maxWaitTimeInMs: o.maxWaitTimeMs ?? 500,
      retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    });
  }

  async start(handler: SourceHandler): Promise<void> {
    this.handler = handler;
    await this.run(this.consumer, handler);
  }

  private async run(consumer: Consumer, handler: SourceHandler): Promise<void> {
    const { GROUP_JOIN, REBALANCING, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      this.joined = true;
      handler.onAssignment(event.payload.memberAssignment[this.topic] ?? []);
    });
    consumer.on(REBALANCING, () => handler.onRevoking());
    consumer.on(CRASH, (event) => {
      const { error, restart } = event.payload;
      if (this.stopped) return;
      this.crashes += 1;
      handler.onRevoking();
      if (restart) {
        this.logger.warn({ err: error.message }, 'kafka consumer failed; kafkajs restarts it');
      } else if (!this.joined) {
        // Never joined: a setting is wrong (brokers, topic, authorisation), not the weather.
        handler.onFatal(error);
      } else {
        this.logger.error({ err: error.message }, 'kafka consumer gave up; starting a new one');
        this.recovering ??= this.recover(handler).finally(() => {
          this.recovering = undefined;
        });
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: (this.options.startFrom ?? 'earliest') === 'earliest' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => this.deliver(payload),
    });
  }

  /**
   * Replaces a consumer that kafkajs stopped for good (it gives up on errors
   * it deems final, such as no group coordinator within its retries, which
   * a broker restart can cause). The new member joins the group and the
   * worker restores its partitions from their checkpoints.
   */
  private async recover(handler: SourceHandler): Promise<void> {
    for (let delay = 1_000; !this.stopped; delay = Math.min(30_000, delay * 2)) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.stopped) return;
      const old = this.consumer;
      await old.disconnect().catch(() => {});
      this.consumer = this.createConsumer();
      try {
        await this.run(this.consumer, handler);
        this.replacements += 1;
        this.logger.info({}, 'kafka consumer started again');
        return;
      } catch (err) {
        this.logger.error({ err: (err as Error).message, retryInMs: delay * 2 }, 'kafka consumer could not start again; retrying');
      }
    }
  }

  private async deliver({ batch, resolveOffset, isStale, isRunning }: EachBatchPayload): Promise<void> {
    if (this.stopped || !isRunning() || isStale() || batch.messages.length === 0) return;
    const messages: SourceMessage[] = new Array(batch.messages.length);
    for (let i = 0; i < batch.messages.length; i++) messages[i] = new KafkaSourceMessage(batch.messages[i]!);
    this.handler?.onBatch({ partition: batch.partition, messages, highWatermark: Number(batch.highWatermark) });
    // Advances the fetch position only; nothing is committed here.
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  }

  /**
   * Runs a consumer call that needs a live consumer group. While kafkajs
   * restarts a crashed consumer there is none; the call is then moot, since
   * the worker re-establishes pauses and positions at the next group join.
   */
  private whileRunning(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, `kafka consumer not running: ${what} skipped until the next group join`);
    }
  }

  seek(partition: number, offset: number): void {
    this.whileRunning('seek', () => this.consumer.seek({ topic: this.topic, partition, offset: String(offset) }));
  }

  pause(partition: number): void {
    this.whileRunning('pause', () => this.consumer.pause([{ topic: this.topic, partitions: [partition] }]));
  }

  resume(partition: number): void {
    this.whileRunning('resume', () => this.consumer.resume([{ topic: this.topic, partitions: [partition] }]));
  }

  async commit(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(offsets.map(({ partition, offset }) => ({ topic: this.topic, partition, offset: String(offset) })));
    } catch (err) {
      const type = (err as { type?: string }).type;
      if (type && GENERATION_ERRORS.has(type)) throw new FencedError(`offset commit refused: ${type}`, { cause: err });
      throw err;
    }
  }

  /** Stops fetching, leaves the group (its partitions move at once) and disconnects. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopping ??= (async () => {
      await this.recovering;
      await this.consumer.disconnect();
    })();
    return this.stopping;
  }
}
