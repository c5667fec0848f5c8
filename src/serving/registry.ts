/**
 * The view registry: polls the view store for batch manifests and realtime
 * checkpoints, decodes the snapshots that changed, and swaps in a new
 * `ServedView` per view when its sources changed. A swap replaces one
 * reference, so queries in flight finish on the version they started with.
 *
 * Each round reads the checkpoints first and the manifests second. The speed
 * layer evicts panes below a new T only after the batch layer published the
 * manifest naming it, so a manifest read after a checkpoint is at least as
 * new as the coverage that checkpoint applied; a round that still sees an
 * older one (the manifest was replaced in between) keeps the previous
 * version and retries on the next round.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { NotFoundError, StorageError, type ObjectStore } from '../storage/index.js';
import type { ViewDefinition } from './definition.js';
import { TIME_MIN } from './plan.js';
import { ServedView, type BatchSide, type PartitionSnapshot, type RealtimeSide } from './served-view.js';
import { mergeSlices, restoreState, slice, type ViewState } from './state.js';
import {
  batchManifest,
  isCheckpointKey,
  manifestKey,
  parseRecord,
  realtimeCheckpoint,
  REALTIME_PREFIX,
  type BatchManifest,
  type RealtimeCheckpoint,
} from './store-records.js';

/** The store operations the registry reads with. */
export type ViewStoreReader = Pick<ObjectStore, 'url' | 'list' | 'head' | 'getBytes'>;

export interface ViewRegistryOptions {
  /** Where batch views are published (`batch.viewStore`). */
  store: ViewStoreReader;
  /** Where the speed layer writes checkpoints and realtime snapshots (`speed.viewStore`); default `store`. */
  realtimeStore?: ViewStoreReader;
  definitions: readonly ViewDefinition[];
  /** Time between polls of the store (default 1000 ms). */
  pollIntervalMs?: number;
  logger?: Logger;
  /** Clock (ms); tests move it. */
  now?: () => number;
}

/** What the registry knows about one view: the version served, or why there is none. */
export interface ViewStatus {
  definition: ViewDefinition;
  served: ServedView | undefined;
  /** The last problem loading this view's sources (cleared by a successful load). */
  problem: string | undefined;
}

interface CachedRecord<T> {
  etag: string;
  value: T;
}

/**
 * Polls that may see a manifest older than a checkpoint's boundary before the
 * registry serves what it has anyway (the manifest was removed or rolled back).
 */
const MAX_STALE_ROUNDS = 5;

/** Bound on the remembered undecodable snapshot keys. */
const MAX_UNDECODABLE = 1000;

type SwapListener = (view: ServedView, previous: ServedView | undefined) => void;

export class ViewRegistry {
  readonly store: ViewStoreReader;
  readonly realtimeStore: ViewStoreReader;
  readonly pollIntervalMs: number;
  private readonly definitions: ReadonlyMap<string, ViewDefinition>;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;

  private readonly checkpoints = new Map<string, CachedRecord<RealtimeCheckpoint>>();
  private readonly manifests = new Map<string, CachedRecord<BatchManifest>>();
  /** Decoded batch states by view, for the manifest version they came from. */
  private readonly batchStates = new Map<string, { version: string; side: BatchSide }>();
  /** Decoded realtime partition states by snapshot key (a key names one partition at one seq). */
  private readonly partitionStates = new Map<string, ViewState>();
  /** What each served view was built from, to skip rebuilding when nothing changed. */
  private readonly fingerprints = new Map<string, string>();
  private readonly statuses = new Map<string, ViewStatus>();
  private readonly listeners: SwapListener[] = [];
  /** Snapshot keys that failed to decode, with the problem. */
  private readonly undecodable = new Map<string, string>();
  /** Consecutive polls that found a manifest older than a checkpoint's applied boundary, by view. */
  private readonly staleRounds = new Map<string, number>();

  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private loadedOnce = false;
  private lastError: string | undefined;
  private lastSuccessAt: number | undefined;

  constructor(options: ViewRegistryOptions) {
    this.store = options.store;
    this.realtimeStore = options.realtimeStore ?? options.store;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.definitions = new Map(options.definitions.map((d) => [d.name, d]));
    for (const d of options.definitions) this.statuses.set(d.name, { definition: d, served: undefined, problem: undefined });
  }

  /** Loads once, then polls until `stop()`. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** True once every view has been looked for in the store at least once. */
  get ready(): boolean {
    return this.loadedOnce;
  }

  /** Why the last poll could not read the store, or undefined; a view whose state does not decode has its own `problem`. */
  get storeProblem(): string | undefined {
    return this.lastError;
  }

  get lastRefreshAt(): number | undefined {
    return this.lastSuccessAt;
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  /** The version of a view to answer a query with (grab it once per query). */
  current(name: string): ServedView | undefined {
    return this.statuses.get(name)?.served;
  }

  status(name: string): ViewStatus | undefined {
    return this.statuses.get(name);
  }

  list(): ViewStatus[] {
    return [...this.statuses.values()];
  }

  onSwap(listener: SwapListener): void {
    this.listeners.push(listener);
  }

  /** One poll of the store. Concurrent callers share the poll in progress. */
  refresh(): Promise<void> {
    this.inFlight ??= this.poll().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.refresh()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer !== undefined) this.schedule();
        });
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let checkpoints: RealtimeCheckpoint[];
    try {
      checkpoints = await this.readCheckpoints();
    } catch (err) {
      this.lastError = `cannot read realtime checkpoints from ${this.realtimeStore.url}: ${(err as Error).message}`;
      this.logger?.warn({ err }, this.lastError);
      return;
    }
    let storeProblem: string | undefined;
    for (const definition of this.definitions.values()) {
      try {
        await this.refreshView(definition, checkpoints);
      } catch (err) {
        const problem = (err as Error).message;
        const status = this.statuses.get(definition.name);
        if (status) status.problem = problem;
        if (err instanceof StorageError) storeProblem ??= problem;
        this.logger?.error({ err, view: definition.name }, `cannot load view ${definition.name}: ${problem}`);
      }
    }
    this.prunePartitionStates();
    this.lastError = storeProblem;
    this.lastSuccessAt = this.now();
    this.loadedOnce = true;
  }

  /** Every partition's current checkpoint; unchanged ones (same ETag) come from the cache. */
  private async readCheckpoints(): Promise<RealtimeCheckpoint[]> {
    const seen = new Set<string>();
    const out: RealtimeCheckpoint[] = [];
    for await (const info of this.realtimeStore.list(REALTIME_PREFIX)) {
      if (!isCheckpointKey(info.key)) continue;
      seen.add(info.key);
      const cached = this.checkpoints.get(info.key);
      if (cached && cached.etag === info.etag) {
        out.push(cached.value);
        continue;
      }
      const record = await this.readRecord(this.realtimeStore, info.key, realtimeCheckpoint);
      if (record === undefined) {
        // Replaced between list and read, or malformed: keep what we had.
        if (cached) out.push(cached.value);
        continue;
      }
      this.checkpoints.set(info.key, { etag: info.etag, value: record });
      out.push(record);
    }
    for (const key of [...this.checkpoints.keys()]) if (!seen.has(key)) this.checkpoints.delete(key);
    return out;
  }

  private async readManifest(view: string): Promise<BatchManifest | undefined> {
    const key = manifestKey(view);
    let etag: string;
    try {
      etag = (await this.store.head(key)).etag;
    } catch (err) {
      if (err instanceof NotFoundError) {
        this.manifests.delete(view);
        return undefined;
      }
      throw err;
    }
    const cached = this.manifests.get(view);
    if (cached && cached.etag === etag) return cached.value;
    const manifest = await this.readRecord(this.store, key, batchManifest);
    if (manifest === undefined) return cached?.value;
    if (manifest.view !== view) throw new Error(`${key} describes view '${manifest.view}', not '${view}'`);
    this.manifests.set(view, { etag, value: manifest });
    return manifest;
  }

  /** Reads and validates a JSON record; undefined when it vanished or is malformed (logged). */
  private async readRecord<S extends z.ZodType>(store: ViewStoreReader, key: string, schema: S): Promise<z.output<S> | undefined> {
    let bytes: Buffer;
    try {
      bytes = await store.getBytes(key);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const parsed = parseRecord(schema, bytes);
    if (!parsed.ok) {
      this.logger?.warn({ key }, `ignoring malformed ${key}: ${parsed.problem}`);
      return undefined;
    }
    return parsed.value;
  }

  private async refreshView(definition: ViewDefinition, checkpoints: readonly RealtimeCheckpoint[]): Promise<void> {
    const name = definition.name;
    const manifest = await this.readManifest(name);
    const T = manifest?.coverageEnd ?? null;
    const applied = Math.max(TIME_MIN, ...checkpoints.map((c) => c.batchCoverage[name] ?? TIME_MIN));
    if (applied > (T ?? TIME_MIN)) {
      const rounds = (this.staleRounds.get(name) ?? 0) + 1;
      this.staleRounds.set(name, rounds);
      if (rounds <= MAX_STALE_ROUNDS) {
        this.logger?.debug({ view: name, applied, T }, 'a checkpoint applied a newer boundary than the manifest read; retrying next poll');
        return;
      }
      this.logger?.warn(
        { view: name, applied, T },
        `the speed layer evicted through ${new Date(applied).toISOString()} but the batch manifest covers less; windows in between have no source`,
      );
    } else {
      this.staleRounds.delete(name);
    }

    const batch = manifest ? await this.batchSide(definition, manifest) : null;
    const partitions = await this.partitionSnapshots(definition, checkpoints);
    if (partitions === undefined) return; // a snapshot was replaced while reading; the next poll sees the new checkpoint

    const fingerprint = [batch?.version ?? '-', ...partitions.map((p) => p.snapshotKey)].join('|');
    const status = this.statuses.get(name) as ViewStatus;
    status.problem = undefined;
    if (this.fingerprints.get(name) === fingerprint && status.served) return;

    let realtime: RealtimeSide | null = null;
    if (partitions.length > 0) {
      const from = T ?? TIME_MIN;
      const state = mergeSlices(partitions.map((p) => ({ state: this.partitionStates.get(p.snapshotKey) as ViewState, from })));
      if (state) realtime = { partitions, state };
    }
    const next = new ServedView(definition, ++this.generation, batch, realtime, this.now());
    const previous = status.served;
    status.served = next; // the swap
    this.fingerprints.set(name, fingerprint);
    // A new batch version is news; realtime swaps happen every publish interval.
    const level = previous?.batch?.version === next.batch?.version ? 'debug' : 'info';
    this.logger?.[level]({ view: name, generation: next.generation, version: next.sourceVersion }, `serving ${name} ${next.sourceVersion}`);
    for (const listener of this.listeners) listener(next, previous);
  }

  private async batchSide(definition: ViewDefinition, manifest: BatchManifest): Promise<BatchSide> {
    const cached = this.batchStates.get(definition.name);
    if (cached && cached.version === manifest.version) return cached.side;
    const what = `batch snapshot ${manifest.snapshot} (version ${manifest.version})`;
    this.throwIfUndecodable(manifest.snapshot);
    const bytes = await this.store.getBytes(manifest.snapshot);
    const state = slice(this.decode(definition, manifest.snapshot, bytes, what), TIME_MIN, manifest.coverageEnd);
    const side: BatchSide = {
      version: manifest.version,
      coverageEnd: manifest.coverageEnd,
      runId: manifest.runId,
      createdAt: manifest.createdAt,
      state,
    };
    this.batchStates.set(definition.name, { version: manifest.version, side });
    return side;
  }

  /** The partitions holding state for this view, decoding new snapshots; undefined when one vanished mid-read. */
  private async partitionSnapshots(definition: ViewDefinition, checkpoints: readonly RealtimeCheckpoint[]): Promise<PartitionSnapshot[] | undefined> {
    const out: PartitionSnapshot[] = [];
    const sorted = [...checkpoints].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    for (const c of sorted) {
      const key = c.views[definition.name];
      if (key === undefined) continue;
      if (!this.partitionStates.has(key)) {
        this.throwIfUndecodable(key);
        let bytes: Buffer;
        try {
          bytes = await this.realtimeStore.getBytes(key);
        } catch (err) {
          if (err instanceof NotFoundError) return undefined;
          throw err;
        }
        this.partitionStates.set(key, this.decode(definition, key, bytes, `realtime snapshot ${key}`));
      }
      out.push({
        topic: c.topic,
        partition: c.partition,
        seq: c.seq,
        offset: c.offset,
        watermark: c.watermark,
        createdAt: c.createdAt,
        snapshotKey: key,
      });
    }
    return out;
  }

  /**
   * Decodes a snapshot. A snapshot that does not decode (a view definition
   * changed, a corrupt object) is remembered, so later polls report it
   * without reading and decoding it again; a new version has a new key.
   */
  private decode(definition: ViewDefinition, key: string, bytes: Buffer, what: string): ViewState {
    try {
      return restoreState(definition, bytes);
    } catch (err) {
      const problem = `${what}: ${(err as Error).message}`;
      if (this.undecodable.size >= MAX_UNDECODABLE) this.undecodable.clear();
      this.undecodable.set(key, problem);
      throw new Error(problem, { cause: err });
    }
  }

  private throwIfUndecodable(key: string): void {
    const problem = this.undecodable.get(key);
    if (problem !== undefined) throw new Error(problem);
  }

  /** Drops decoded partition states no current checkpoint names. */
  private prunePartitionStates(): void {
    const live = new Set<string>();
    for (const { value } of this.checkpoints.values()) for (const key of Object.values(value.views)) live.add(key);
    for (const key of [...this.partitionStates.keys()]) if (!live.has(key)) this.partitionStates.delete(key);
  }
}
