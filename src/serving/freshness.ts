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
