/**
 * Where the speed layer's events come from. Kafka is the production source;
 * the built-in generator and a followed NDJSON file serve `pulse up` without
 * a broker. All three deliver offset-ordered batches per partition and go
 * through the same micro-batching, checkpoint and archive code, so the
 * exactly-once protocol is exercised the same way whatever the source.
 */

/** Header values as a Kafka client hands them over. */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** One message of a partition. */
export interface SourceMessage {
  /** Position in the partition; the next message has a larger offset. */
  offset: number;
  /**
   * Where reading resumes after this message: `offset + 1` for Kafka (the
   * default), the next line's byte offset for a followed file.
   */
  nextOffset?: number;
  /** Raw bytes (one NDJSON record, or CSV row), `null` for a tombstone. */
  value: Buffer | null;
  /** When the message was written (ms since the epoch). */
  timestamp: number;
  key?: Buffer | null;
  headers?: MessageHeaders;
}

/** The offset a checkpoint records after `message`: where the next one starts. */
export function offsetAfter(message: SourceMessage): number {
  return message.nextOffset ?? message.offset + 1;
}

/** Messages of one partition, in offset order. */
export interface SourceBatch {
  partition: number;
  messages: SourceMessage[];
  /** The partition's end offset when the batch was fetched, for lag. */
  highWatermark?: number;
}

/** What a source calls back into; every callback returns at once. */
export interface SourceHandler {
  /**
   * The partitions this worker now owns (after every group join). Partitions
   * missing from the list were revoked.
   */
  onAssignment(partitions: number[]): void;
  /** A rebalance started: checkpoints must wait for the next assignment. */
  onRevoking(): void;
  /** New messages. The handler buffers them; it never blocks the source. */
  onBatch(batch: SourceBatch): void;
  /** The source failed for good (the worker should stop). */
  onFatal(err: Error): void;
}

/** An offset to commit back to the source, per partition. */
export interface PartitionOffset {
  partition: number;
  offset: number;
}

export type SourceKind = 'kafka' | 'generator' | 'file';

export interface EventSource {
  readonly kind: SourceKind;
  /** Topic name (Kafka) or a stable name for the stream (`generator`, the file name). */
  readonly topic: string;
  /** Connects and starts delivering to the handler. */
  start(handler: SourceHandler): Promise<void>;
  /** The next message delivered for the partition will be at `offset`. */
  seek(partition: number, offset: number): void;
  /** Stops fetching a partition (backpressure, restore in progress). */
  pause(partition: number): void;
  resume(partition: number): void;
  /**
   * Records the offsets as consumed (Kafka: an offset commit for the group).
   * Rejects when this worker may no longer commit (a rebalance took the
   * partitions away); callers treat that as a fence.
   */
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Stops delivering and releases the partitions (Kafka: leaves the group). */
  stop(): Promise<void>;
}

/**
 * A commit was refused because this worker's group generation is over (a
 * rebalance is reassigning its partitions). Checkpoints stop until the
 * next assignment.
 */
export class FencedError extends Error {
  override name = 'FencedError';
}
