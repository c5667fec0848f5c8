/**
 * How fresh an answer is: where the batch view ends, how far the realtime
 * views have seen, and how old the newest realtime snapshot is. Every query
 * answer carries this block, computed at answer time from the version the
 * query used.
 */
import type { ServedView } from './served-view.js';
import { isoTime } from './time.js';

export interface Freshness {
  /** Coverage end T of the batch view (ISO-8601), null without one. */
  batchCoverageEnd: string | null;
  /** The smallest watermark of the realtime partitions (ISO-8601), null without realtime state. */
  realtimeWatermark: string | null;
  /** Age of the newest realtime snapshot at answer time, ms. */
  snapshotAgeMs: number | null;
  /** Windows ending at or before this are final (ISO-8601). */
  completeThrough: string | null;
}

export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoTime(ms);
}

export function snapshotAgeMs(view: ServedView | undefined, now: number): number | null {
  const at = view?.newestSnapshotAt ?? null;
  return at === null ? null : Math.max(0, now - at);
}

export function freshness(view: ServedView | undefined, now: number): Freshness {
  return {
    batchCoverageEnd: iso(view?.boundary),
    realtimeWatermark: iso(view?.realtimeWatermark),
    snapshotAgeMs: snapshotAgeMs(view, now),
    completeThrough: iso(view?.completeThrough),
  };
}

/**
 * The freshness block as JSON text at a snapshot age: the same as
 * `JSON.stringify(freshness(view, now))` with `ageMs = snapshotAgeMs(view, now)`.
 * Only `snapshotAgeMs` moves with time, so the text around it is made once
 * per version and each answer only prints the age.
 */
export function freshnessJson(view: ServedView, ageMs: number | null): string {
  const [before, after] = freshnessFrame(view);
  return `${before}${ageMs === null ? 'null' : ageMs}${after}`;
}

function freshnessFrame(view: ServedView): [string, string] {
  const before = view.memoText('freshness-before', () => {
    const head = JSON.stringify({ batchCoverageEnd: iso(view.boundary), realtimeWatermark: iso(view.realtimeWatermark) });
    return `${head.slice(0, -1)},"snapshotAgeMs":`;
  });
  const after = view.memoText('freshness-after', () => `,"completeThrough":${JSON.stringify(iso(view.completeThrough))}}`);
  return [before, after];
}
