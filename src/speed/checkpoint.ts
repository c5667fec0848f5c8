/**
 * The checkpoint protocol, per partition (docs/store-layout.md):
 *
 *   intent.json → archive object, dead letters, view snapshots → commit
 *   record (checkpoint.json) → offset commit → delete old snapshots
 *
 * A checkpoint is a realtime view snapshot plus the offset after the last
 * message it includes. The commit record is the one atomic switch: until it
 * is written the previous checkpoint stands, and whatever the intent names
 * is garbage a restore deletes. Restore reads the commit record, waits out a
 * live writer's lease, cleans up an abandoned intent and returns the
 * checkpoint to resume from.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ArchiveProgress } from './archive.js';
import { progressKey } from './archive.js';
import type { SpeedLogger, SpeedStore } from './ports.js';
import { readJson, writeJson } from './ports.js';

/** Which store an object lives in. */
export type StoreRole = 'views' | 'archive' | 'errors';

export interface ObjectRef {
  store: StoreRole;
  key: string;
}

/** The commit point of one partition: what `realtime/<topic>-<p>/checkpoint.json` holds. */
export interface Checkpoint {
  topic: string;
  partition: number;
  seq: number;
  /** The next offset to consume (a decimal string, as Kafka offsets are 64-bit). */
  offset: string;
  /** Largest event time applied to the partition's state (ms), null before any. */
  watermark: number | null;
  createdAt: string;
  /** View name → snapshot key in the view store. */
  views: Record<string, string>;
  /** The archive object this checkpoint wrote (key in the archive store), if any. */
  archive: string | null;
  /** The dead-letter object this checkpoint wrote (key in the errors store), if any. */
  deadLetters: string | null;
  /** View name → the batch coverage end T applied to this state. */
  batchCoverage: Record<string, number>;
}

/** Written before any object of a checkpoint, so a restore can undo a half-done one. */
export interface Intent {
  topic: string;
  partition: number;
  seq: number;
  offset: string;
  /** The writing worker, so a restore can tell a live writer's intent from its own. */
  owner: string;
  createdAt: string;
  objects: ObjectRef[];
}

/** Everything one checkpoint writes. */
export interface CheckpointPlan {
  topic: string;
  partition: number;
  seq: number;
  offset: number;
  watermark: number | null;
  batchCoverage: Record<string, number>;
  snapshots: Map<string, Buffer>;
  archive?: { key: string; body: Buffer };
  deadLetters?: { key: string; body: Buffer };
  /** Objects of an earlier failed attempt: deleted first, named in the intent meanwhile. */
  leftovers: ObjectRef[];
}

/** The checkpoint could not be committed; `written` lists what it left behind. */
export class CheckpointAbortedError extends Error {
  override name = 'CheckpointAbortedError';
  constructor(
    message: string,
    readonly written: ObjectRef[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Snapshot key of a view's state for one partition and sequence. */
export function snapshotKey(view: string, topic: string, partition: number, seq: number): string {
  return `views/${view}/realtime/${topic}-${partition}/${seq}.arrow`;
}

function snapshotPrefix(view: string, topic: string, partition: number): string {
  return `views/${view}/realtime/${topic}-${partition}/`;
}

/**
 * Where a mode keeps its intent and commit record: the speed layer in the
 * view store (`realtime/…`), the archiver alone in the archive store, where
 * its progress file is its commit record.
 */
interface Ledger {
  intent(topic: string, partition: number): ObjectRef;
  commit(topic: string, partition: number): ObjectRef;
  encode(checkpoint: Checkpoint): unknown;
  decode(record: unknown): Checkpoint | undefined;
}

const realtimeLedger: Ledger = {
  intent: (topic, partition) => ({ store: 'views', key: `realtime/${topic}-${partition}/intent.json` }),
  commit: (topic, partition) => ({ store: 'views', key: `realtime/${topic}-${partition}/checkpoint.json` }),
  encode: (checkpoint) => checkpoint,
  decode: (record) => record as Checkpoint,
};

/** The progress record the archiver writes (and the speed layer too, after each checkpoint). */
export function progressOf(checkpoint: Checkpoint): ArchiveProgress {
  return {
    topic: checkpoint.topic,
    partition: checkpoint.partition,
    offset: checkpoint.offset,
    watermark: checkpoint.watermark,
    updatedAt: checkpoint.createdAt,
    seq: checkpoint.seq,
    archive: checkpoint.archive,
  };
}

const archiveLedger: Ledger = {
  intent: (topic, partition) => ({ store: 'archive', key: progressKey(topic, partition).replace(/\.json$/, '.intent.json') }),
  commit: (topic, partition) => ({ store: 'archive', key: progressKey(topic, partition) }),
  encode: progressOf,
  decode: (record) => {
    const p = record as ArchiveProgress;
    return {
      topic: p.topic,
      partition: p.partition,
      seq: p.seq,
      offset: p.offset,
      watermark: p.watermark,
      createdAt: p.updatedAt,
      views: {},
      archive: p.archive,
      deadLetters: null,
      batchCoverage: {},
    };
  },
};

export interface CheckpointerOptions {
  /** `speed`: view snapshots with a realtime commit record; `archive`: the archive's progress file commits. */
  mode: 'speed' | 'archive';
  stores: Partial<Record<StoreRole, SpeedStore>>;
  /** This worker's identity in intents. */
  owner: string;
  /**
   * How long a checkpoint may take. A writer past it gives up before its
   * commit record; a restore waits this long for another owner's intent.
   */
  leaseMs: number;
  logger: SpeedLogger;
}

/** Reads and writes one partition's checkpoints in the stores. */
export class Checkpointer {
  private readonly ledger: Ledger;

  constructor(private readonly options: CheckpointerOptions) {
    this.ledger = options.mode === 'speed' ? realtimeLedger : archiveLedger;
  }

  private store(role: StoreRole): SpeedStore {
    const store = this.options.stores[role];
    if (!store) throw new Error(`no ${role} store configured`);
    return store;
  }

  private async read<T>(ref: ObjectRef): Promise<T | undefined> {
    return readJson<T>(this.store(ref.store), ref.key);
  }

  /** The partition's committed checkpoint, or undefined when it has none. */
  async current(topic: string, partition: number): Promise<Checkpoint | undefined> {
    const record = await this.read<unknown>(this.ledger.commit(topic, partition));
    return record === undefined ? undefined : this.ledger.decode(record);
  }

  /**
   * The checkpoint to resume from, after undoing any half-written newer
   * one: an intent newer than the commit record whose owner is someone else
   * and younger than the lease may still be committing, so wait for it;
   * past that, delete what it names.
   */
  async recover(topic: string, partition: number): Promise<Checkpoint | undefined> {
    const intentRef = this.ledger.intent(topic, partition);
    let checkpoint = await this.current(topic, partition);
    let intent = await this.read<Intent>(intentRef);
    const pending = (i: Intent | undefined, c: Checkpoint | undefined): i is Intent => i !== undefined && i.seq > (c?.seq ?? -1);
    while (pending(intent, checkpoint) && intent.owner !== this.options.owner) {
      const age = Date.now() - Date.parse(intent.createdAt);
      if (!(age < this.options.leaseMs)) break;
      this.options.logger.info({ topic, partition, seq: intent.seq, owner: intent.owner }, 'waiting for another worker to finish its checkpoint');
      await sleep(Math.min(200, this.options.leaseMs - age));
      checkpoint = await this.current(topic, partition);
      intent = await this.read<Intent>(intentRef);
    }
    if (pending(intent, checkpoint)) {
      this.options.logger.warn(
        { topic, partition, seq: intent.seq, objects: intent.objects.length },
        'removing the objects of an unfinished checkpoint',
      );
      await this.deleteAll(intent.objects);
    }
    if (checkpoint && this.options.mode === 'speed') await this.removeStaleSnapshots(checkpoint);
    return checkpoint;
  }

  /** Deletes snapshot objects of this partition other than the checkpoint's and its predecessor's. */
  private async removeStaleSnapshots(checkpoint: Checkpoint): Promise<void> {
    const views = this.store('views');
    const keep = new Set<string>();
    for (const view of Object.keys(checkpoint.views)) {
      keep.add(snapshotKey(view, checkpoint.topic, checkpoint.partition, checkpoint.seq));
      keep.add(snapshotKey(view, checkpoint.topic, checkpoint.partition, checkpoint.seq - 1));
    }
    for (const view of Object.keys(checkpoint.views)) {
      const stale: string[] = [];
      for await (const { key } of views.list(snapshotPrefix(view, checkpoint.topic, checkpoint.partition))) {
        if (!keep.has(key)) stale.push(key);
      }
      await Promise.all(stale.map((key) => views.delete(key)));
    }
  }

  async deleteAll(refs: ObjectRef[]): Promise<void> {
    await Promise.all(refs.map((ref) => this.store(ref.store).delete(ref.key)));
  }

  /**
   * Writes a checkpoint. `fence` runs after the objects are written and
   * before the commit record; it rejects when this worker no longer owns
   * the partition. On any failure the checkpoint is not committed and the
   * error lists the objects written, for the next attempt to delete.
   */
  async write(plan: CheckpointPlan, fence: () => Promise<void>): Promise<Checkpoint> {
    const started = Date.now();
    const { topic, partition, seq } = plan;
    const snapshots = [...plan.snapshots.entries()].map(([view, body]) => ({
      view,
      ref: { store: 'views' as const, key: snapshotKey(view, topic, partition, seq) },
      body,
    }));
    const objects: { ref: ObjectRef; body: Buffer }[] = snapshots.map(({ ref, body }) => ({ ref, body }));
    if (plan.archive) objects.push({ ref: { store: 'archive', key: plan.archive.key }, body: plan.archive.body });
    if (plan.deadLetters) objects.push({ ref: { store: 'errors', key: plan.deadLetters.key }, body: plan.deadLetters.body });
    const planned = objects.map((o) => o.ref);
    const intent: Intent = {
      topic,
      partition,
      seq,
      offset: String(plan.offset),
      owner: this.options.owner,
      createdAt: new Date(started).toISOString(),
      objects: [...planned, ...plan.leftovers.filter((l) => !planned.some((p) => p.store === l.store && p.key === l.key))],
    };
    const intentRef = this.ledger.intent(topic, partition);
    const written: ObjectRef[] = [];
    try {
      await writeJson(this.store(intentRef.store), intentRef.key, intent);
      await this.deleteAll(intent.objects.slice(planned.length));
      await Promise.all(
        objects.map(async ({ ref, body }) => {
          written.push(ref);
          await this.store(ref.store).put(ref.key, body, { contentType: contentTypeOf(ref.key) });
        }),
      );
      await fence();
      if (Date.now() - started > this.options.leaseMs / 2) {
        throw new Error(`checkpoint took longer than half its lease (${this.options.leaseMs} ms); not committing`);
      }
      const checkpoint: Checkpoint = {
        topic,
        partition,
        seq,
        offset: String(plan.offset),
        watermark: plan.watermark,
        createdAt: new Date().toISOString(),
        views: Object.fromEntries(snapshots.map(({ view, ref }) => [view, ref.key])),
        archive: plan.archive?.key ?? null,
        deadLetters: plan.deadLetters?.key ?? null,
        batchCoverage: { ...plan.batchCoverage },
      };
      const commitRef = this.ledger.commit(topic, partition);
      await writeJson(this.store(commitRef.store), commitRef.key, this.ledger.encode(checkpoint));
      return checkpoint;
    } catch (err) {
      throw new CheckpointAbortedError(`checkpoint ${seq} of ${topic}-${partition} not committed: ${(err as Error).message}`, [...written, ...plan.leftovers], {
        cause: err,
      });
    }
  }

  /** After a commit: the snapshots two sequences back are no longer read by anyone. */
  async retire(checkpoint: Checkpoint): Promise<void> {
    if (this.options.mode !== 'speed' || checkpoint.seq < 2) return;
    const views = this.store('views');
    await Promise.all(Object.keys(checkpoint.views).map((view) => views.delete(snapshotKey(view, checkpoint.topic, checkpoint.partition, checkpoint.seq - 2))));
  }

  /** The speed layer also keeps the archive's progress file current (after its commit). */
  async writeProgress(checkpoint: Checkpoint): Promise<void> {
    await writeJson(this.store('archive'), progressKey(checkpoint.topic, checkpoint.partition), progressOf(checkpoint));
  }
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.arrow')) return 'application/vnd.apache.arrow.stream';
  if (key.endsWith('.ndjson')) return 'application/x-ndjson';
  if (key.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}
