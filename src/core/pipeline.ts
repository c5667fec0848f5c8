/**
 * The fused pipeline: raw bytes → parse → rules → view states in one native
 * call per chunk. The batch and speed layers both drive exactly this class
 * with the same spec, so they build identical partial states (invariant 1).
 */
import type { Table } from 'apache-arrow';
import { native } from './native.js';
import { tableFromBuffer } from './arrow.js';
import type { NativePipeline } from '../../native/binding.cjs';
import type { ParseOptions, SchemaSpec } from './parser.js';
import type { RulesSpec } from './rules.js';
import type { ViewQuery, ViewSpec } from './window.js';

export type { ViewQuery };

/** The JSON specs of docs/native-contract.md, as `toNativeSpecs` produces them. */
export interface PipelineSpec {
  schema: SchemaSpec;
  parse: ParseOptions;
  rules?: RulesSpec;
  views: ViewSpec[];
  /** Rows older than the watermark minus this are late rejects (speed layer only). */
  allowedLatenessMs?: number;
}

/** A record that did not reach the views, and why. */
export interface PipelineReject {
  line: number;
  byteOffset: number;
  /** A parser code (`malformed_json`, …), `rule_failed` or `late`. */
  kind: string;
  field?: string;
  ruleIds: string[];
  reason: string;
  raw?: string;
}

export interface PushReport {
  records: number;
  applied: number;
  warned: number;
  parseRejects: number;
  ruleRejects: number;
  late: number;
  outOfRange: number;
  rejects: PipelineReject[];
  watermark: number | null;
}

export interface RuleCounter {
  id: string;
  severity: string;
  evaluated: number;
  failed: number;
  warned: number;
}

/** Widest event-time range a view accepts: ± the largest safe JS integer. */
export const ALL_TIME = { from: -Number.MAX_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER } as const;

function report(r: ReturnType<NativePipeline['push']>): PushReport {
  return {
    records: r.records,
    applied: r.applied,
    warned: r.warned,
    parseRejects: r.parseRejects,
    ruleRejects: r.ruleRejects,
    late: r.late,
    outOfRange: r.outOfRange,
    rejects: r.rejects.map((x) => ({
      line: x.line,
      byteOffset: x.byteOffset,
      kind: x.kind,
      ...(x.field != null ? { field: x.field } : {}),
      ruleIds: x.ruleIds,
      reason: x.reason,
      ...(x.raw != null ? { raw: x.raw } : {}),
    })),
    watermark: r.watermark ?? null,
  };
}

export class Pipeline {
  private isClosed = false;

  private constructor(
    private readonly inner: NativePipeline,
    readonly spec: PipelineSpec,
  ) {}

  /** Compiles the spec once; a bad spec throws with its path or rule id. */
  static create(spec: PipelineSpec): Pipeline {
    return new Pipeline(new native.NativePipeline(JSON.stringify(spec)), spec);
  }

  push(chunk: Buffer): PushReport {
    return report(this.inner.push(chunk));
  }

  /** Like `push`, on the libuv pool so the event loop stays free. */
  async pushAsync(chunk: Buffer): Promise<PushReport> {
    return report(await this.inner.pushAsync(chunk));
  }

  /** Ends one stream (an object, a micro-batch): line numbers restart after it. */
  finish(): PushReport {
    return report(this.inner.finish());
  }

  async finishAsync(): Promise<PushReport> {
    return report(await this.inner.finishAsync());
  }

  /** Only events in [from, to) enter `view`: the batch/speed time boundary. */
  setViewRange(view: string, from: number, to: number): void {
    this.inner.setViewRange(view, clampTime(from), clampTime(to));
  }

  snapshot(view: string): Buffer {
    return this.inner.snapshot(view);
  }

  restore(view: string, snapshot: Buffer): void {
    this.inner.restore(view, snapshot);
  }

  merge(other: Pipeline): void {
    this.inner.merge(other.inner);
  }

  /**
   * Frees the view states now. A large run's states take hundreds of MB of
   * native memory the JS heap does not see, so waiting for the wrapper's
   * garbage collection can let them pile up. Any later call throws.
   */
  close(): void {
    this.inner.close();
    this.isClosed = true;
  }

  /** True once `close()` freed the states. */
  get closed(): boolean {
    return this.isClosed;
  }

  evictThrough(view: string, t: number): number {
    return this.inner.evictThrough(view, t);
  }

  query(view: string, q: ViewQuery): Table {
    const time = (t: number | Date | undefined) => (t instanceof Date ? t.getTime() : t);
    return tableFromBuffer(this.inner.query(view, JSON.stringify({ ...q, from: time(q.from), to: time(q.to) })));
  }

  watermark(): number | null {
    return this.inner.watermark() ?? null;
  }

  /** Raises the watermark to at least `t`: a restored checkpoint's watermark, so lateness is decided as before the restore. */
  raiseWatermark(t: number): void {
    this.inner.raiseWatermark(clampTime(t));
  }

  viewNames(): string[] {
    return this.inner.viewNames();
  }

  ruleCounters(): RuleCounter[] {
    return this.inner.ruleCounters();
  }
}

function clampTime(t: number): number {
  return Math.max(ALL_TIME.from, Math.min(ALL_TIME.to, Math.trunc(t)));
}
