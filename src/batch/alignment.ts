/**
 * View alignment and the coverage end T of a batch view.
 *
 * Every view has an alignment (tumbling: size; hopping: gcd(size, slide);
 * session: the fragment grid `alignMs`, default 60 000). A batch view's T is
 * aligned to it, so the split at T never cuts a pane: batch panes (< T) and
 * realtime panes (≥ T) never overlap.
 */

/** The window part of a view spec, as `docs/native-contract.md` defines it. */
export type WindowSpec =
  | { type: 'tumbling'; sizeMs: number }
  | { type: 'hopping'; sizeMs: number; slideMs: number }
  | { type: 'session'; gapMs: number; alignMs?: number };

export const DEFAULT_SESSION_ALIGN_MS = 60_000;

/** Smallest event time the native core accepts as a range bound (the JS Date range). */
export const MIN_EVENT_TIME = -8.64e15;

function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** The pane width of a view: the finest unit its windows are made of. */
export function alignmentOf(window: WindowSpec): number {
  switch (window.type) {
    case 'tumbling':
      return window.sizeMs;
    case 'hopping':
      return gcd(window.sizeMs, window.slideMs);
    case 'session':
      return window.alignMs ?? DEFAULT_SESSION_ALIGN_MS;
  }
}

/** Largest multiple of `alignment` (from the epoch) at or below `t`. */
export function alignDown(t: number, alignment: number): number {
  if (!(alignment > 0)) throw new RangeError(`alignment must be positive, got ${alignment}`);
  return Math.floor(t / alignment) * alignment;
}

/** The speed layer's archive progress for one Kafka partition (`raw/_progress/…`). */
export interface ArchiveProgress {
  /** Where it was read from, for the audit report. */
  key: string;
  /** Largest event time archived so far (ms), or null before any event. */
  watermark: number | null;
}

/**
 * The instant a run may claim complete before alignment:
 * `min(runStart, minₚ(watermarkₚ − allowedLateness))`. An event older than
 * that which is not archived yet would be late for the speed layer anyway,
 * and the next batch run absorbs it. A partition with no watermark yet holds
 * nothing back.
 */
export function coverageLimit(runStart: number, progress: ArchiveProgress[], allowedLatenessMs: number): number {
  let limit = runStart;
  for (const p of progress) {
    if (p.watermark === null) continue;
    limit = Math.min(limit, p.watermark - allowedLatenessMs);
  }
  return limit;
}

/** Coverage end T of one view: the run's limit aligned down to the view's panes. */
export function coverageEnd(limit: number, window: WindowSpec): number {
  return alignDown(limit, alignmentOf(window));
}
