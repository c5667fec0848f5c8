/**
 * One owned partition: its pipeline (the partition's view states and
 * watermark), the messages waiting for a micro-batch, what was processed
 * since the last checkpoint, and where it stands against the checkpoint.
 * State lives per partition so it moves with the partition on a rebalance
 * and a replay from a checkpoint is deterministic.
 */
import { ArchiveSegment } from './archive.js';
import type { Checkpoint, ObjectRef } from './checkpoint.js';
import type { SpeedPipeline } from './ports.js';
import type { SourceMessage } from './source.js';
import { offsetAfter } from './source.js';

export type PartitionStatus =
  /** Waiting for its checkpoint to be read; fetching is paused. */
  | 'restoring'
  /** Owned again after a rebalance; its checkpoint must be checked before more work. */
  | 'verifying'
  | 'ready';

export class PartitionState {
  status: PartitionStatus = 'restoring';
  /** The partition's view states and watermark; null before the restore and after it left this worker. */
  pipeline: SpeedPipeline | null = null;
  /** A micro-batch's native calls are under way: the pipeline must not be closed meanwhile. */
  private calling = false;
  /** The partition left this worker: its pipeline is closed as soon as no call is under way. */
  private retired = false;
  /** The last committed checkpoint (undefined: none yet). */
  checkpoint: Checkpoint | undefined;
  /** Next offset the source should deliver; anything below is a repeat. */
  receiveCursor: number | null = null;
  /** Offset after the last processed message: the next checkpoint's offset. */
  processedOffset: number | null = null;
  /** Batch coverage end T applied per view. */
  coverage: Record<string, number> = {};
  /** State changed without new offsets (a boundary eviction): checkpoint anyway. */
  dirty = false;
  /** Objects of a failed checkpoint attempt, deleted by the next one. */
  leftovers: ObjectRef[] = [];
  /** The source's end offset at the last fetch, for lag. */
  highWatermark: number | null = null;
  /** Processed since the last checkpoint, for the archive. */
  readonly segment = new ArchiveSegment();
  /** Dead-letter sends of processed micro-batches not yet acknowledged. */
  unsentLetters: Promise<void>[] = [];
  /** Messages received and not yet processed, in offset order. */
  private queue: SourceMessage[][] = [];
  private queued = 0;
  /** When the oldest queued message arrived (ms). */
  queuedSince = 0;
  paused = false;

  constructor(readonly partition: number) {}

  /** Installs a freshly restored pipeline, freeing the one it replaces (a restore runs between micro-batches). */
  usePipeline(pipeline: SpeedPipeline): void {
    if (this.calling) throw new Error(`partition ${this.partition}: pipeline replaced during a micro-batch`);
    if (this.pipeline !== pipeline) this.pipeline?.close();
    this.pipeline = pipeline;
  }

  /** Runs one micro-batch's native calls; a partition that left meanwhile has its pipeline freed right after them. */
  async calls<T>(fn: (pipeline: SpeedPipeline) => Promise<T>): Promise<T> {
    this.calling = true;
    try {
      return await fn(this.pipeline!);
    } finally {
      this.calling = false;
      if (this.retired) this.closePipeline();
    }
  }

  /** The partition left this worker (revoked, or the worker stopped): its native state is freed now, or after the call under way. */
  retire(): void {
    this.retired = true;
    if (!this.calling) this.closePipeline();
  }

  private closePipeline(): void {
    this.pipeline?.close();
    this.pipeline = null;
  }

  /** Records received and not yet processed. */
  get pending(): number {
    return this.queued;
  }

  /** Appends messages at or after the receive cursor; repeats below it are dropped. */
  receive(messages: SourceMessage[], now: number): number {
    let fresh = messages;
    const cursor = this.receiveCursor;
    if (cursor !== null && messages.length > 0 && messages[0]!.offset < cursor) {
      fresh = messages.filter((m) => m.offset >= cursor);
    }
    if (fresh.length === 0) return 0;
    if (this.queued === 0) this.queuedSince = now;
    this.queue.push(fresh);
    this.queued += fresh.length;
    this.receiveCursor = offsetAfter(fresh[fresh.length - 1]!);
    return fresh.length;
  }

  /** Takes up to `max` queued messages, oldest first. */
  take(max: number): SourceMessage[] {
    const out: SourceMessage[] = [];
    while (out.length < max && this.queue.length > 0) {
      const head = this.queue[0]!;
      const room = max - out.length;
      if (head.length <= room) {
        for (const m of head) out.push(m);
        this.queue.shift();
      } else {
        for (let i = 0; i < room; i++) out.push(head[i]!);
        this.queue[0] = head.slice(room);
      }
    }
    // What stays queued keeps its arrival time: it is already due.
    this.queued -= out.length;
    return out;
  }

  /** Offset of the oldest queued message. */
  peekOffset(): number | null {
    return this.queue[0]?.[0]?.offset ?? null;
  }

  /** Forgets queued messages (a seek follows, which delivers them again). */
  clearQueue(): void {
    this.queue = [];
    this.queued = 0;
  }

  /** Waits until every dead letter of the processed messages is acknowledged (rejects when a send failed for good). */
  async lettersSent(): Promise<void> {
    // The loop neither processes nor checkpoints a partition twice at once, so no send starts meanwhile.
    await Promise.all(this.unsentLetters);
    this.unsentLetters = [];
  }

  /** True when a checkpoint would record something new. */
  get hasChanges(): boolean {
    return this.dirty || !this.segment.isEmpty || (this.processedOffset !== null && String(this.processedOffset) !== this.checkpoint?.offset);
  }

  /** The watermark a checkpoint records: the partition's largest applied event time. */
  watermark(): number | null {
    return this.pipeline?.watermark() ?? null;
  }

  /** Lag behind the partition's end, when the source reported it. */
  lag(): number | null {
    if (this.highWatermark === null || this.processedOffset === null) return null;
    return Math.max(0, this.highWatermark - this.processedOffset);
  }
}
