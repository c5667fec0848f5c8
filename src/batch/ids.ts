/**
 * Run ids and batch view versions. Both sort by time as plain strings, so a
 * listing of `runs/` or `views/<name>/batch/` is already in run order.
 */
import { randomBytes } from 'node:crypto';

/**
 * `2026-01-01T02:00:00.123Z` → `20260101T020000.123Z`. Milliseconds are
 * kept so runs started within one second still sort in start order.
 */
export function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

/** A unique, time-sortable run id: `<UTC timestamp>-<8 hex>`, e.g. `20260101T020000.123Z-3f2a9c1b`. */
export function newRunId(now: number = Date.now()): string {
  return `${compactUtc(now)}-${randomBytes(4).toString('hex')}`;
}

const RUN_ID = /^\d{8}T\d{6}(\.\d{3})?Z-[0-9a-f]{4,32}$/;

/** Run ids given on the command line (shards share one) must keep the sortable shape. */
export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/**
 * The version a run publishes: `<UTC timestamp>-<short run id>`. A run id
 * already has that shape, so the version is the run id itself; keeping one
 * name for both lets an audit report point straight at the views it wrote.
 */
export function versionOf(runId: string): string {
  return runId;
}
