/**
 * The speed worker: takes messages from a source, cuts them into
 * micro-batches per partition, runs each through the fused native pipeline
 * in one call, sends rejects to the dead-letter sink, and every publish
 * interval checkpoints each changed partition (view snapshots, archive
 * object, offsets) before committing offsets to the source.
 *
 * One loop does all state work, so a partition's pipeline is never touched
 * by two tasks at once; the native calls run off the event loop, which
 * keeps the source fetching meanwhile. When a partition's queue grows past
 * a bound the source pauses it, and resumes it once the queue drains.
 */
import { randomUUID } from 'node:crypto';
import { archiveKey } from './archive.js';
import type { SpeedStore } from './ports.js';
import { BoundaryWatcher, OPEN_END } from './boundary.js';
import type { Checkpoint, CheckpointPlan } from './checkpoint.js';
import { CheckpointAbortedError, Checkpointer } from './checkpoint.js';
import type { DeadLetter, DeadLetterSink } from './dead-letters.js';
import { deadLettersFor } from './dead-letters.js';
import { SpeedMetrics } from './metrics.js';
import { joinMessages } from './microbatch.js';
import { PartitionState } from './partition.js';
import type { PipelineFactory, PushReportLike, SpeedLogger, SpeedPipelineSpec } from './ports.js';
import { silentLogger } from './ports.js';
import { retrying } from './retry.js';
import type { EventSource, SourceBatch, SourceHandler } from './source.js';
import { FencedError, offsetAfter } from './source.js';

export interface SpeedWorkerOptions {
  source: EventSource;
  /** The pipeline spec; `views` is empty for the archiver alone. */
  spec: SpeedPipelineSpec;
  createPipeline: PipelineFactory;
  /**
   * `speed`: views, dead letters and (with an archive store) the archive;
   * `archive`: the archive only, committed by its progress files.
   */
  mode: 'speed' | 'archive';
  stores: { views?: SpeedStore; archive?: SpeedStore; errors?: SpeedStore };
  deadLetters?: DeadLetterSink;
  /** Most records per micro-batch (default 10 000). */
  maxBatchRecords?: number;
  /** Longest a message waits for its micro-batch to fill (default 250 ms). */
  maxBatchWaitMs?: number;
  /** How often changed partitions are checkpointed (default 1 000 ms). */
  publishIntervalMs?: number;
  /** Queued records of one partition above which fetching pauses (default 5 × maxBatchRecords). */
  maxPendingRecords?: number;
  /** How often batch manifests are polled for a new time boundary (default 5 000 ms). */
  boundaryPollMs?: number;
  /** Checkpoint lease: see `CheckpointerOptions.leaseMs` (default 10 000 ms). */
  leaseMs?: number;
  /** Longest a graceful stop may take before the worker leaves anyway (default 30 000 ms). */
  shutdownTimeoutMs?: number;
  owner?: string;
  logger?: SpeedLogger;
  metrics?: SpeedMetrics;
  /** Called after each publish round with the checkpoints it committed. */
  onPublish?: (event: PublishEvent) => void;
}

export interface PublishEvent {
  checkpoints: Checkpoint[];
  /** When the commit records were written (ms). */
  publishedAt: number;
  /** Per committed partition: source timestamps of the messages it newly covers, a sample per micro-batch (see `ArchiveSegment.timestamps`). */
  messageTimestamps: Map<number, number[]>;
}

/** Totals since the worker started. */
export interface SpeedCounts {
  /** Messages received from the source. */
  messages: number;
  /** Messages processed through the pipeline. */
  processed: number;
  records: number;
  applied: number;
  rejected: number;
  late: number;
  deadLetters: number;
  microBatches: number;
  checkpoints: number;
  /** Times a partition's fetching was paused because its queue was full. */
  pauses: number;
}

/** Wakes the loop early: a partition filled a micro-batch, the assignment changed, a stop. */
class Signal {
  private notified = false;
  private wake: (() => void) | undefined;

  notify(): void {
    this.notified = true;
    this.wake?.();
  }

  async wait(ms: number): Promise<void> {
    if (!this.notified && ms > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.wake = undefined;
    this.notified = false;
  }
}

export class SpeedWorker {
  readonly counts: SpeedCounts = { messages: 0, processed: 0, records: 0, applied: 0, rejected: 0, late: 0, deadLetters: 0, microBatches: 0, checkpoints: 0, pauses: 0 };
  private readonly partitions = new Map<number, PartitionState>();
  private readonly signal = new Signal();
  private readonly checkpointer: Checkpointer;
  private readonly boundary: BoundaryWatcher | undefined;
  private readonly logger: SpeedLogger;
  private readonly metrics: SpeedMetrics;
  private readonly topic: string;
  private readonly maxBatchRecords: number;
  private readonly maxBatchWaitMs: number;
  private readonly publishIntervalMs: number;
  private readonly maxPendingRecords: number;
  private nextPublishAt = 0;
  /** A rebalance is under way: no checkpoint until the next assignment. */
  private fenced = false;
  private stopping = false;
  private stopDeadline = Infinity;
  private fatal: Error | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: SpeedWorkerOptions) {
    this.topic = options.source.topic;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new SpeedMetrics();
    this.maxBatchRecords = options.maxBatchRecords ?? 10_000;
    this.maxBatchWaitMs = options.maxBatchWaitMs ?? 250;
    this.publishIntervalMs = options.publishIntervalMs ?? 1_000;
    this.maxPendingRecords = options.maxPendingRecords ?? 5 * this.maxBatchRecords;
    if (options.mode === 'speed' && !options.stores.views) throw new Error('the speed layer needs a view store');
    if (options.mode === 'archive' && !options.stores.archive) throw new Error('the archiver needs an archive location');
    this.checkpointer = new Checkpointer({
      mode: options.mode,
      stores: options.stores,
      owner: options.owner ?? randomUUID(),
      leaseMs: options.leaseMs ?? 10_000,
      logger: this.logger,
    });
    const views = options.mode === 'speed' ? options.spec.views.map((v) => v.name) : [];
    this.boundary =
      views.length > 0 && options.stores.views
        ? new BoundaryWatcher(options.stores.views, views, () => this.signal.notify(), this.logger)
        : undefined;
  }

  /** Runs until `stop()` (resolves) or a fatal error (rejects). */
  run(): Promise<void> {
    this.running ??= this.execute();
    return this.running;
  }

  /**
   * Graceful stop: fetching stops, queued messages are processed, every
   * changed partition is checkpointed and committed, then the worker leaves
   * the group. Bounded by `shutdownTimeoutMs`; past it the worker leaves
   * with its last checkpoint, which loses nothing either.
   */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.logger.info({ partitions: this.ownedPartitions() }, 'stopping: draining queued messages, then a last checkpoint');
      this.stopping = true;
      this.stopDeadline = Date.now() + (this.options.shutdownTimeoutMs ?? 30_000);
      for (const part of this.partitions.values()) this.options.source.pause(part.partition);
      this.signal.notify();
    }
    if (!this.running) return;
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, this.stopDeadline - Date.now())).unref());
    const outcome = await Promise.race([this.running.then(() => 'done' as const), timeout]);
    if (outcome === 'timeout') {
      this.logger.error({ timeoutMs: this.options.shutdownTimeoutMs ?? 30_000 }, 'graceful stop timed out; leaving with the last committed checkpoint');
      await this.options.source.stop().catch(() => {});
    }
  }

  /** Partitions currently owned. */
  ownedPartitions(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  /** The last committed checkpoint of each owned partition. */
  checkpoints(): Checkpoint[] {
    return [...this.partitions.values()].flatMap((p) => (p.checkpoint ? [p.checkpoint] : []));
  }

  private async execute(): Promise<void> {
    const handler: SourceHandler = {
      onAssignment: (partitions) => this.onAssignment(partitions),
      onRevoking: () => {
        this.fenced = true;
      },
      onBatch: (batch) => this.onBatch(batch),
      onFatal: (err) => {
        this.fatal = err;
        this.signal.notify();
      },
    };
    if (this.boundary) {
      await this.boundary.poll().catch((err: Error) => this.logger.warn({ err: err.message }, 'cannot read batch manifests yet'));
      this.boundary.start(this.options.boundaryPollMs ?? 5_000);
    }
    try {
      await this.options.source.start(handler);
      this.nextPublishAt = Date.now() + this.publishIntervalMs;
      await this.loop();
    } finally {
      await this.boundary?.stop();
      await this.options.source.stop().catch((err: Error) => this.logger.warn({ err: err.message }, 'source did not stop cleanly'));
      await this.options.deadLetters?.close().catch(() => {});
      for (const part of this.partitions.values()) part.retire();
      this.logger.info({ ...this.counts }, 'speed worker stopped');
    }
  }

  // ---- source callbacks (synchronous: they only record and wake the loop)

  private onAssignment(partitions: number[]): void {
    const owned = new Set(partitions);
    for (const [p, part] of this.partitions) {
      if (!owned.has(p)) {
        this.partitions.delete(p);
        part.retire();
        this.options.deadLetters?.clear(p);
        this.metrics.lag.remove({ topic: this.topic, partition: String(p) });
        this.logger.info({ partition: p, pending: part.pending }, 'partition revoked; its state stays with its last checkpoint');
      } else {
        if (part.status === 'ready') part.status = 'verifying';
        // A restarted consumer forgot its pauses.
        if (part.paused || part.status === 'restoring') this.options.source.pause(p);
      }
    }
    for (const p of partitions) {
      if (this.partitions.has(p)) continue;
      this.partitions.set(p, new PartitionState(p));
      this.options.source.pause(p);
    }
    this.fenced = false;
    this.logger.info({ partitions: this.ownedPartitions() }, 'partitions assigned');
    this.signal.notify();
  }

  private onBatch(batch: SourceBatch): void {
    const part = this.partitions.get(batch.partition);
    if (!part || part.status === 'restoring' || this.stopping) return;
    if (batch.highWatermark !== undefined) part.highWatermark = batch.highWatermark;
    const received = part.receive(batch.messages, Date.now());
    if (received === 0) return;
    this.counts.messages += received;
    this.metrics.events.inc({ topic: this.topic }, received);
    if (part.pending >= this.maxPendingRecords && !part.paused) {
      part.paused = true;
      this.counts.pauses += 1;
      this.options.source.pause(part.partition);
      this.metrics.pausedPartitions.inc({ topic: this.topic });
      this.logger.debug({ partition: part.partition, pending: part.pending }, 'pipeline behind: fetching paused');
    }
    if (part.pending >= this.maxBatchRecords) this.signal.notify();
  }

  // ---- the loop

  private async loop(): Promise<void> {
    for (;;) {
      if (this.fatal) throw this.fatal;
      await this.prepareAll();
      this.applyBoundary();
      // A stop requested during this pass is handled by the next one, which drains and publishes.
      const draining = this.stopping;
      const publishDue = draining || Date.now() >= this.nextPublishAt;
      // Partitions are independent (each has its own pipeline), so their
      // micro-batches run side by side: one partition's join overlaps another's
      // native call, and both overlap the consumer's fetching.
      await Promise.all([...this.partitions.values()].map((part) => this.processDue(part, publishDue)));
      if (this.fatal) throw this.fatal;
      if (publishDue) {
        await this.publish();
        this.nextPublishAt = Date.now() + this.publishIntervalMs;
      }
      this.updateGauges();
      if (draining) return;
      await this.signal.wait(this.nextWakeIn());
    }
  }

  private nextWakeIn(): number {
    const now = Date.now();
    let at = this.nextPublishAt;
    for (const part of this.partitions.values()) {
      if (part.status !== 'ready') return 100;
      if (part.pending > 0) at = Math.min(at, part.queuedSince + this.maxBatchWaitMs);
    }
    return Math.max(0, at - now);
  }

  private owns(part: PartitionState): boolean {
    return this.partitions.get(part.partition) === part;
  }

  /** Processes the partition's due micro-batches; before a publish, everything queued now. */
  private async processDue(part: PartitionState, publishDue: boolean): Promise<void> {
    let budget = publishDue ? part.pending : Infinity;
    while (part.status === 'ready' && this.owns(part) && part.pending > 0 && budget > 0 && !this.fatal) {
      const due = publishDue || part.pending >= this.maxBatchRecords || Date.now() - part.queuedSince >= this.maxBatchWaitMs;
      if (!due) break;
      if (!part.checkpoint && !(await this.pin(part))) break;
      budget -= await this.processMicroBatch(part);
    }
    if (part.paused && part.pending <= this.maxPendingRecords / 2 && !this.stopping && this.owns(part)) {
      part.paused = false;
      this.options.source.resume(part.partition);
      this.metrics.pausedPartitions.dec({ topic: this.topic });
    }
  }

  /** Restores newly assigned partitions and re-checks kept ones after a rebalance. */
  private async prepareAll(): Promise<void> {
    const waiting = [...this.partitions.values()].filter((p) => p.status !== 'ready');
    if (waiting.length === 0) return;
    await Promise.all(
      waiting.map(async (part) => {
        try {
          if (part.status === 'verifying') await this.verify(part);
          else await this.restore(part);
        } catch (err) {
          this.logger.warn({ partition: part.partition, err: (err as Error).message }, 'cannot restore the partition yet; retrying');
        }
      }),
    );
  }

  private async verify(part: PartitionState): Promise<void> {
    const current = await this.checkpointer.current(this.topic, part.partition);
    if (!this.owns(part)) return;
    if ((current?.seq ?? -1) === (part.checkpoint?.seq ?? -1)) {
      part.status = 'ready';
      if (part.receiveCursor !== null) this.options.source.seek(part.partition, part.receiveCursor);
      return;
    }
    this.logger.warn({ partition: part.partition, ours: part.checkpoint?.seq, theirs: current?.seq }, 'partition was checkpointed by another worker meanwhile; restoring');
    part.status = 'restoring';
    this.options.source.pause(part.partition);
    await this.restore(part);
  }

  /** Reads the partition's checkpoint, rebuilds its pipeline and seeks the source to the checkpoint's offset. */
  private async restore(part: PartitionState): Promise<void> {
    const checkpoint = await this.checkpointer.recover(this.topic, part.partition);
    const pipeline = this.options.createPipeline(this.options.spec);
    const views = this.options.stores.views;
    try {
      if (checkpoint && views) {
        for (const [view, key] of Object.entries(checkpoint.views)) pipeline.restore(view, await views.getBytes(key));
      }
    } catch (err) {
      pipeline.close();
      throw err;
    }
    if (!this.owns(part)) {
      pipeline.close();
      return;
    }
    part.usePipeline(pipeline);
    part.checkpoint = checkpoint;
    part.coverage = { ...(checkpoint?.batchCoverage ?? {}) };
    for (const [view, t] of Object.entries(part.coverage)) pipeline.setViewRange(view, t, OPEN_END);
    if (checkpoint?.watermark != null) pipeline.raiseWatermark(checkpoint.watermark);
    part.processedOffset = checkpoint ? Number(checkpoint.offset) : null;
    part.receiveCursor = part.processedOffset;
    part.segment.clear();
    part.unsentLetters = [];
    part.clearQueue();
    part.leftovers = [];
    part.dirty = false;
    this.options.deadLetters?.clear(part.partition);
    part.status = 'ready';
    if (part.processedOffset !== null) this.options.source.seek(part.partition, part.processedOffset);
    if (!this.stopping) this.options.source.resume(part.partition);
    this.logger.info(
      { partition: part.partition, seq: checkpoint?.seq ?? null, offset: checkpoint?.offset ?? null, watermark: checkpoint?.watermark ?? null },
      checkpoint ? 'partition restored from its checkpoint' : 'partition has no checkpoint yet; starting at the group offset',
    );
  }

  /** New batch coverage: keep only events at or after T in that view, drop the panes before. */
  private applyBoundary(): void {
    if (!this.boundary) return;
    for (const part of this.partitions.values()) {
      if (part.status !== 'ready' || !part.pipeline) continue;
      for (const [view, t] of Object.entries(this.boundary.coverage)) {
        if (part.coverage[view] !== undefined && part.coverage[view] >= t) continue;
        part.pipeline.setViewRange(view, t, OPEN_END);
        const evicted = part.pipeline.evictThrough(view, t);
        part.coverage[view] = t;
        part.dirty = true;
        this.logger.info({ partition: part.partition, view, coverageEnd: t, evicted }, 'time boundary moved: realtime panes evicted');
      }
    }
  }

  /** One micro-batch through the pipeline; returns how many messages it took. */
  private async processMicroBatch(part: PartitionState): Promise<number> {
    const messages = part.take(this.maxBatchRecords);
    const batch = joinMessages(messages);
    const reports: PushReportLike[] = [];
    try {
      await part.calls(async (pipeline) => {
        if (batch.bytes.length > 0) reports.push(await pipeline.pushAsync(batch.bytes));
        reports.push(await pipeline.finishAsync());
      });
    } catch (err) {
      // The pipeline refuses to go on (rules with onError: halt): stop before
      // any checkpoint passes this micro-batch.
      this.fatal = new Error(`partition ${part.partition}, offsets ${messages[0]?.offset}-${messages[messages.length - 1]?.offset}: ${(err as Error).message}`, { cause: err });
      return messages.length;
    }
    const rejects = reports.flatMap((r) => r.rejects);
    this.count(reports, batch.empty.length);
    if (this.options.deadLetters && (rejects.length > 0 || batch.empty.length > 0)) {
      this.sendDeadLetters(part, deadLettersFor(this.topic, part.partition, batch, rejects, Date.now()));
    }
    part.segment.add(batch);
    part.processedOffset = offsetAfter(messages[messages.length - 1]!);
    this.counts.processed += messages.length;
    return messages.length;
  }

  /**
   * Produces a micro-batch's dead letters without waiting for the
   * acknowledgement: the next micro-batch goes on meanwhile, and the
   * partition's next checkpoint waits for every send it covers
   * (`part.unsentLetters`), so no offset passes an unacknowledged letter.
   * A send that fails for good stops the worker, as before its checkpoint.
   */
  private sendDeadLetters(part: PartitionState, letters: DeadLetter[]): void {
    const sink = this.options.deadLetters!;
    const sent = retrying(() => sink.send(letters), {
      what: 'producing dead letters',
      logger: this.logger,
      giveUp: () => Date.now() > this.stopDeadline,
    }).then(
      () => {
        this.counts.deadLetters += letters.length;
      },
      (err: unknown) => {
        this.fatal ??= err instanceof Error ? err : new Error(String(err));
        this.signal.notify();
        throw err;
      },
    );
    sent.catch(() => {});
    part.unsentLetters.push(sent);
  }

  private count(reports: PushReportLike[], empty: number): void {
    const topic = this.topic;
    this.counts.microBatches += 1;
    this.metrics.microBatches.inc({ topic });
    for (const r of reports) {
      this.counts.records += r.records;
      this.counts.applied += r.applied;
      this.counts.rejected += r.parseRejects + r.ruleRejects + r.late;
      this.counts.late += r.late;
      if (r.applied) this.metrics.applied.inc({ topic }, r.applied);
      if (r.late) this.metrics.late.inc({ topic }, r.late);
      for (const reject of r.rejects) this.metrics.rejects.inc({ topic, kind: reject.kind });
    }
    if (empty > 0) {
      this.counts.rejected += empty;
      this.metrics.rejects.inc({ topic, kind: 'empty_message' }, empty);
    }
  }

  // ---- checkpoints

  /** A partition's first checkpoint, written before it processes anything: its starting offset. */
  private async pin(part: PartitionState): Promise<boolean> {
    const first = part.peekOffset();
    if (first === null || this.fenced) return false;
    part.processedOffset = first;
    const results = await this.commitRound([part]);
    return results.length === 1;
  }

  private async publish(): Promise<void> {
    if (this.fenced) {
      this.logger.debug({}, 'rebalance under way: publish skipped');
      return;
    }
    const parts = [...this.partitions.values()].filter((p) => p.status === 'ready' && p.checkpoint && p.hasChanges);
    if (parts.length > 0) await this.commitRound(parts);
  }

  /**
   * Checkpoints the partitions together: objects in parallel, one fence
   * (an offset commit of the previous checkpoints, refused if the group
   * moved on) before any commit record, then one offset commit of the new
   * offsets, then the clean-up. Returns the checkpoints committed.
   */
  private async commitRound(parts: PartitionState[]): Promise<Checkpoint[]> {
    const started = Date.now();
    let fence: Promise<void> | undefined;
    // Re-committing what is already committed (or a first checkpoint's
    // starting offset) changes nothing, but is refused once the group's
    // generation moved on.
    const previous = parts.map((p) => ({ partition: p.partition, offset: Number(p.checkpoint?.offset ?? p.processedOffset) }));
    const fenceOnce = (): Promise<void> => (fence ??= this.options.source.commit(previous));
    const timestamps = new Map<number, number[]>();
    const results = await Promise.allSettled(
      parts.map(async (part) => {
        await part.lettersSent();
        const plan = this.plan(part);
        const stamps = part.segment.timestamps;
        const checkpoint = await this.checkpointer.write(plan, fenceOnce);
        if (!this.owns(part)) return checkpoint;
        part.checkpoint = checkpoint;
        part.segment.clear();
        part.dirty = false;
        part.leftovers = [];
        this.options.deadLetters?.clear(part.partition);
        timestamps.set(part.partition, stamps);
        return checkpoint;
      }),
    );
    const committed: Checkpoint[] = [];
    results.forEach((result, i) => {
      const part = parts[i]!;
      if (result.status === 'fulfilled') {
        committed.push(result.value);
        return;
      }
      const err = result.reason as Error;
      this.metrics.checkpointFailures.inc({ topic: this.topic });
      if (err instanceof CheckpointAbortedError) part.leftovers = err.written;
      if (err.cause instanceof FencedError) this.fenced = true;
      this.logger.warn({ partition: part.partition, err: err.message }, 'checkpoint not committed; the previous one stands');
    });
    if (committed.length === 0) return committed;
    const publishedAt = Date.now();
    this.counts.checkpoints += committed.length;
    this.observeFreshness(publishedAt, timestamps);
    this.metrics.checkpointSeconds.observe({ topic: this.topic }, (publishedAt - started) / 1000);
    await this.options.source
      .commit(committed.map((c) => ({ partition: c.partition, offset: Number(c.offset) })))
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'offset commit failed; the store checkpoint is authoritative'));
    await Promise.all(
      committed.map(async (c) => {
        await this.checkpointer.retire(c).catch((err: Error) => this.logger.warn({ err: err.message }, 'cannot delete old snapshots'));
        if (this.options.mode === 'speed' && this.options.stores.archive) {
          await this.checkpointer.writeProgress(c).catch((err: Error) => this.logger.warn({ err: err.message }, 'cannot update archive progress'));
        }
      }),
    );
    this.options.onPublish?.({ checkpoints: committed, publishedAt, messageTimestamps: timestamps });
    return committed;
  }

  /**
   * Freshness of the newly published messages: an evenly spaced sample
   * (at most 200 per partition and round), since observing every message
   * would cost more than consuming it.
   */
  private observeFreshness(publishedAt: number, timestamps: Map<number, number[]>): void {
    const labels = { topic: this.topic };
    for (const stamps of timestamps.values()) {
      const step = Math.max(1, Math.floor(stamps.length / 200));
      for (let i = 0; i < stamps.length; i += step) this.metrics.freshness.observe(labels, (publishedAt - stamps[i]!) / 1000);
    }
  }

  /** What the partition's next checkpoint writes. */
  private plan(part: PartitionState): CheckpointPlan {
    const pipeline = part.pipeline!;
    const seq = (part.checkpoint?.seq ?? -1) + 1;
    const snapshots = new Map<string, Buffer>();
    if (this.options.mode === 'speed') for (const view of this.options.spec.views) snapshots.set(view.name, pipeline.snapshot(view.name));
    const plan: CheckpointPlan = {
      topic: this.topic,
      partition: part.partition,
      seq,
      offset: part.processedOffset!,
      watermark: part.watermark(),
      batchCoverage: part.coverage,
      snapshots,
      leftovers: part.leftovers,
    };
    const segment = part.segment;
    if (!segment.isEmpty) {
      const first = segment.firstOffset!;
      const last = segment.lastOffset!;
      const body = segment.body();
      if (this.options.stores.archive && body.length > 0) {
        const format = (this.options.spec.parse as { format?: string } | undefined)?.format === 'csv' ? 'csv' : 'ndjson';
        plan.archive = { key: archiveKey(this.options.source.kind, this.topic, part.partition, first, last, segment.firstTimestamp, format), body };
      }
      const staged = this.options.deadLetters?.stage(part.partition, first, last) ?? [];
      if (staged[0] && this.options.stores.errors) plan.deadLetters = staged[0];
    }
    return plan;
  }

  private updateGauges(): void {
    const now = Date.now();
    for (const part of this.partitions.values()) {
      const partition = String(part.partition);
      const lag = part.lag();
      if (lag !== null) this.metrics.lag.set({ topic: this.topic, partition }, lag);
      if (part.checkpoint) this.metrics.snapshotAge.set({ topic: this.topic, partition }, (now - Date.parse(part.checkpoint.createdAt)) / 1000);
    }
  }
}
