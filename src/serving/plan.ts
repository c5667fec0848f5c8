/**
 * How a query splits at the time boundary T. Batch states hold panes < T,
 * realtime states panes ≥ T, and a window is assembled from the panes it
 * covers, so:
 *
 * - a window that ends at or before T is answered from the batch state;
 * - a window that starts at or after T is answered from the realtime state;
 * - a window that starts before T and ends after it (a hopping window, or a
 *   rollup bucket) straddles T: it is answered from a *boundary state*, the
 *   merge of the batch panes it needs and the realtime panes it needs.
 *
 * Window starts are multiples of a step (the slide, the size, or the rollup
 * granularity), so each kind of window covers one contiguous range of
 * starts, and the answer is the three segments' rows concatenated in order.
 * Sessions have no fixed length: a session that reaches T may begin any time
 * before it, so session views are answered from the merge of both states.
 */
import type { NativeViewSpec } from '../config/index.js';

/** Largest and smallest instants (ms) a state range can name; ±100 million days, as JS dates. */
export const TIME_MIN = -8.64e15;
export const TIME_MAX = 8.64e15;

/** The windows a query produces: starts at multiples of `step`, each `span` long. */
export interface WindowGeometry {
  kind: 'aligned' | 'session';
  span: number;
  step: number;
}

/** Geometry of a view's windows, or of its rollup to `granularityMs` (tumbling views only). */
export function windowGeometry(spec: NativeViewSpec, granularityMs?: number): WindowGeometry {
  const w = spec.window;
  switch (w.type) {
    case 'tumbling': {
      const size = granularityMs ?? w.sizeMs;
      return { kind: 'aligned', span: size, step: size };
    }
    case 'hopping':
      return { kind: 'aligned', span: w.sizeMs, step: w.slideMs };
    case 'session':
      return { kind: 'session', span: w.gapMs, step: w.alignMs ?? 60_000 };
  }
}

export function alignDown(t: number, step: number): number {
  return Math.floor(t / step) * step;
}

export function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

/** Which state answers a segment of window starts. */
export type SegmentSource = 'batch' | 'boundary' | 'realtime' | 'merged';

export interface Segment {
  source: SegmentSource;
  /** Window starts in `[from, to)`. */
  from: number;
  to: number;
}

/** What is loaded for a view: the boundary T (null without a batch view) and whether realtime state exists. */
export interface Sides {
  boundary: number | null;
  hasRealtime: boolean;
}

/**
 * The range of window starts `[from, to)` that straddle T: those starting
 * before T whose window ends after it. Empty (`from >= to`) for tumbling
 * windows, whose T is aligned to their size.
 */
export function straddlingStarts(geometry: WindowGeometry, boundary: number): { from: number; to: number } {
  // The first start s with s + span > T, and the first start at or after T.
  return { from: alignDown(boundary - geometry.span, geometry.step) + geometry.step, to: alignUp(boundary, geometry.step) };
}

/**
 * The pane range a boundary state must hold to answer every straddling
 * window: batch panes from the first straddling start up to T, realtime
 * panes from T to the end of the last straddling window.
 */
export function boundaryPanes(geometry: WindowGeometry, boundary: number): { batchFrom: number; realtimeTo: number } {
  const starts = straddlingStarts(geometry, boundary);
  return { batchFrom: starts.from, realtimeTo: starts.to - geometry.step + geometry.span };
}

/** Splits the window starts `[from, to)` of a query into segments, in time order, none empty. */
export function planSegments(geometry: WindowGeometry, sides: Sides, from: number, to: number): Segment[] {
  if (from >= to) return [];
  const T = sides.boundary;
  if (T === null) return [{ source: 'realtime', from, to }];
  if (!sides.hasRealtime) return [{ source: 'batch', from, to }];
  if (geometry.kind === 'session') return [{ source: 'merged', from, to }];
  const starts = straddlingStarts(geometry, T);
  const segments: Segment[] = [
    { source: 'batch', from, to: Math.min(to, starts.from) },
    { source: 'boundary', from: Math.max(from, starts.from), to: Math.min(to, starts.to) },
    { source: 'realtime', from: Math.max(from, starts.to), to },
  ];
  return segments.filter((s) => s.from < s.to);
}
