/**
 * The history an example starts with: `history.days` of generated events
 * written into the local lake (`batch.source`) as a few NDJSON objects under
 * `date=YYYY-MM-DD/`, one per six-hour block, so the first batch run has a
 * master dataset to build views from before the live stream adds to it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { drawLines, type ExampleGenerator } from './generator.js';
import type { Rng } from './random.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Metadata folder (keys starting with `_` are never input) where objects are written before they are renamed into place. */
const STAGING = '_staging';
/** History objects are cut on this UTC grid. */
export const HISTORY_BLOCK_MS = 6 * 3_600_000;

export interface HistoryOptions {
  /** Local folder of the master dataset (the config's resolved `batch.source`). */
  lakeDir: string;
  gen: ExampleGenerator;
  rng: Rng;
  /** History ends at the minute boundary at or before this (live events start here). */
  endMs: number;
  invalidShare: number;
}

export interface HistoryReport {
  /** Keys of the written objects, relative to the lake. */
  files: string[];
  fromMs: number;
  toMs: number;
  /** NDJSON lines written. */
  lines: number;
  /** Lines written as invalid on purpose. */
  invalid: number;
}

/** The object a history block is written to, e.g. `date=2026-01-31/history-0600.ndjson`. */
export function historyKey(blockStartMs: number): string {
  const iso = new Date(blockStartMs).toISOString();
  return `date=${iso.slice(0, 10)}/history-${iso.slice(11, 13)}${iso.slice(14, 16)}.ndjson`;
}

/** Whether the lake already holds a generated history (the runner then leaves it alone). */
export async function hasHistory(lakeDir: string): Promise<boolean> {
  if (!existsSync(lakeDir)) return false;
  for (const entry of await readdir(lakeDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith('date=')) continue;
    const files = await readdir(join(lakeDir, entry.name));
    if (files.some((f) => f.startsWith('history-') && f.endsWith('.ndjson'))) return true;
  }
  return false;
}

/**
 * Writes the history: `eventsPerMinute` draws per minute spread over each
 * minute, in event-time order. Each object appears whole (staged under `_staging/`,
 * then renamed), so a batch run never reads half of one.
 */
export async function writeHistory(options: HistoryOptions): Promise<HistoryReport> {
  const { gen, rng, lakeDir, invalidShare } = options;
  const { days, eventsPerMinute } = gen.history;
  const toMs = Math.floor(options.endMs / MINUTE_MS) * MINUTE_MS;
  const fromMs = toMs - days * DAY_MS;
  const report: HistoryReport = { files: [], fromMs, toMs, lines: 0, invalid: 0 };
  const spacing = MINUTE_MS / eventsPerMinute;

  for (let block = Math.floor(fromMs / HISTORY_BLOCK_MS) * HISTORY_BLOCK_MS; block < toMs; block += HISTORY_BLOCK_MS) {
    const lines: string[] = [];
    for (let minute = Math.max(block, fromMs); minute < Math.min(block + HISTORY_BLOCK_MS, toMs); minute += MINUTE_MS) {
      for (let i = 0; i < eventsPerMinute; i++) {
        const ts = minute + Math.floor((i + rng()) * spacing);
        const drawn = drawLines(gen, rng, ts, invalidShare);
        lines.push(...drawn.lines);
        if (drawn.invalid) report.invalid += 1;
      }
    }
    const key = historyKey(block);
    const path = join(lakeDir, key);
    // Staged under a `_` key, which the batch layer never reads as input.
    const staged = join(lakeDir, STAGING, key.replace('/', '_'));
    await mkdir(dirname(staged), { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    await writeFile(staged, lines.join('\n') + '\n');
    await rename(staged, path);
    report.files.push(key);
    report.lines += lines.length;
  }
  await rmdir(join(lakeDir, STAGING)).catch(() => undefined); // only when empty; leftovers of a crash stay visible
  return report;
}
