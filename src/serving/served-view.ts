/**
 * One immutable version of a view as the serving layer answers it: the batch
 * state (panes < T), the realtime state (every partition merged, panes ≥ T),
 * the boundary T, and where each came from. The registry swaps a whole
 * `ServedView` at once, and a query holds the one it started with, so an
 * answer never mixes two versions.
 */
import type { Table } from 'apache-arrow';
import { LRUCache } from 'lru-cache';
import type { ViewDefinition } from './definition.js';
import { boundaryPanes, planSegments, windowGeometry, type Segment, type WindowGeometry } from './plan.js';
import { emptyResult } from './result-schema.js';
import { mergeSlices, queryState, type StateQuery, type ViewState } from './state.js';

export interface BatchSide {
  version: string;
  /** Coverage end T (ms): the state holds exactly the events before it. */
  coverageEnd: number;
  runId: string | undefined;
  createdAt: string | undefined;
  /** The batch snapshot sliced to panes < T. */
  state: ViewState;
}

export interface PartitionSnapshot {
  topic: string;
  partition: number;
  seq: number;
  /** Next Kafka offset the speed layer will consume for this partition. */
  offset: string;
  /** Largest event time the partition has applied, ms. */
  watermark: number | null;
  /** When the checkpoint was written, ms. */
  createdAt: number;
  snapshotKey: string;
}

export interface RealtimeSide {
  partitions: PartitionSnapshot[];
  /** Every partition's state merged, panes ≥ T. */
  state: ViewState;
}

/** A query in the view's terms, with every default resolved. */
export interface ViewQuery {
  from: number;
  to: number;
  groups: Record<string, string>;
  granularityMs: number | undefined;
  limit: number;
}

/** Bytes of encoded answers kept per served view; dashboards repeat the same few queries. */
const ANSWER_CACHE_BYTES = 32 * 1024 * 1024;

/** An encoded answer, sized for the cache by its body. */
export interface CachedAnswer {
  bytes: number;
}

/** The instants a version is described by; fixed with the version, so worked out once (every answer reports them). */
interface VersionTimes {
  realtimeWatermark: number | null;
  completeThrough: number | null;
  newestSnapshotAt: number | null;
  newestData: number | null;
}

function versionTimes(definition: ViewDefinition, batch: BatchSide | null, realtime: RealtimeSide | null): VersionTimes {
  const partitions = realtime?.partitions ?? [];
  const marks = partitions.map((p) => p.watermark).filter((w): w is number => w !== null);
  const realtimeWatermark = marks.length === 0 ? null : Math.min(...marks);
  const T = batch?.coverageEnd ?? null;
  const realtimeComplete = realtimeWatermark === null ? null : realtimeWatermark - definition.allowedLatenessMs;
  const completeThrough = T === null ? realtimeComplete : realtimeComplete === null ? T : Math.max(T, realtimeComplete);
  const newestSnapshotAt = partitions.length === 0 ? null : Math.max(...partitions.map((p) => p.createdAt));
  const candidates = [...marks, ...(T === null ? [] : [T - 1])];
  const newestData = candidates.length === 0 ? null : Math.max(...candidates);
  return { realtimeWatermark, completeThrough, newestSnapshotAt, newestData };
}

export class ServedView {
  private readonly times: VersionTimes;
  /** Boundary states by window geometry, built on first use (they depend on this version only). */
  private readonly boundaryStates = new Map<string, ViewState | null>();
  private mergedState: ViewState | null | undefined;
  private sourceLabel: string | undefined;
  private readonly texts = new Map<string, string>();
  private readonly answers = new LRUCache<string, CachedAnswer>({
    maxSize: ANSWER_CACHE_BYTES,
    sizeCalculation: (a) => Math.max(1, a.bytes),
  });

  constructor(
    readonly definition: ViewDefinition,
    /** Increases by one with every swap of this view. */
    readonly generation: number,
    readonly batch: BatchSide | null,
    readonly realtime: RealtimeSide | null,
    /** When this version was built, ms. */
    readonly builtAt: number,
  ) {
    this.times = versionTimes(definition, batch, realtime);
  }

  get name(): string {
    return this.definition.name;
  }

  /** T, or null when there is no batch view yet (every window then comes from realtime). */
  get boundary(): number | null {
    return this.batch?.coverageEnd ?? null;
  }

  /**
   * The realtime watermark: the smallest of the partitions' watermarks, since
   * any partition may still deliver events up to its own watermark.
   */
  get realtimeWatermark(): number | null {
    return this.times.realtimeWatermark;
  }

  /**
   * Windows ending at or before this instant are final: the batch covers
   * everything before T, and the speed layer rejects as late any event older
   * than its watermark minus the allowed lateness.
   */
  get completeThrough(): number | null {
    return this.times.completeThrough;
  }

  /** When the newest realtime snapshot was written, ms; null without realtime state. */
  get newestSnapshotAt(): number | null {
    return this.times.newestSnapshotAt;
  }

  /** The latest instant any state has data for (the largest watermark, else T); null when empty. */
  get newestData(): number | null {
    return this.times.newestData;
  }

  /** The version label of this answer's sources: batch version and partition seqs. */
  get sourceVersion(): string {
    this.sourceLabel ??= [
      this.batch ? `batch@${this.batch.version}` : 'batch@none',
      ...(this.realtime?.partitions ?? []).map((p) => `${p.topic}-${p.partition}@${p.seq}`),
    ].join(' ');
    return this.sourceLabel;
  }

  geometry(q: Pick<ViewQuery, 'granularityMs'>): WindowGeometry {
    return windowGeometry(this.definition.spec, q.granularityMs);
  }

  /** Which state answers which window starts. */
  plan(q: ViewQuery): Segment[] {
    return planSegments(this.geometry(q), { boundary: this.boundary, hasRealtime: this.realtime !== null }, q.from, q.to);
  }

  /**
   * The finalised rows of the query, one table per segment, in window order;
   * at most `q.limit` rows in all. Never an empty list: with no state, one
   * empty table with the view's result schema.
   */
  execute(q: ViewQuery): Table[] {
    const tables: Table[] = [];
    let remaining = q.limit;
    for (const segment of this.plan(q)) {
      if (remaining <= 0) break;
      const state = this.stateFor(segment, q);
      if (state === null) continue;
      const sq: StateQuery = { from: segment.from, to: segment.to, groups: q.groups, limit: remaining };
      if (q.granularityMs !== undefined) sq.granularityMs = q.granularityMs;
      const table = queryState(state, sq);
      remaining -= table.numRows;
      tables.push(table);
    }
    return tables.length > 0 ? tables : [emptyResult(this.definition)];
  }

  /**
   * The encoded answer to one query on this version, computed once: a
   * version never changes, so neither does its answer. Answers larger than
   * the cache are computed each time.
   */
  memo<T extends CachedAnswer>(key: string, compute: () => T): T {
    const hit = this.answers.get(key);
    if (hit !== undefined) return hit as T;
    const value = compute();
    if (value.bytes <= ANSWER_CACHE_BYTES) this.answers.set(key, value);
    return value;
  }

  /** A text derived from this version alone (a header value), computed once. */
  memoText(key: string, compute: () => string): string {
    let text = this.texts.get(key);
    if (text === undefined) {
      text = compute();
      this.texts.set(key, text);
    }
    return text;
  }

  private stateFor(segment: Segment, q: ViewQuery): ViewState | null {
    switch (segment.source) {
      case 'batch':
        return this.batch?.state ?? null;
      case 'realtime':
        return this.realtime?.state ?? null;
      case 'boundary':
        return this.boundaryState(this.geometry(q));
      case 'merged':
        return this.merged();
    }
  }

  /** Batch panes from the first straddling window's start to T, merged with realtime panes up to the last one's end. */
  private boundaryState(geometry: WindowGeometry): ViewState | null {
    const key = `${geometry.span}/${geometry.step}`;
    if (!this.boundaryStates.has(key)) {
      const T = this.boundary as number;
      const panes = boundaryPanes(geometry, T);
      const parts = [];
      if (this.batch) parts.push({ state: this.batch.state, from: panes.batchFrom, to: T });
      if (this.realtime) parts.push({ state: this.realtime.state, from: T, to: panes.realtimeTo });
      this.boundaryStates.set(key, mergeSlices(parts));
    }
    return this.boundaryStates.get(key) ?? null;
  }

  /** Both states merged whole (session views: a session reaching T may begin any time before it). */
  private merged(): ViewState | null {
    if (this.mergedState === undefined) {
      const parts = [this.batch?.state, this.realtime?.state].filter((s): s is ViewState => s !== undefined).map((state) => ({ state }));
      this.mergedState = mergeSlices(parts);
    }
    return this.mergedState;
  }
}
