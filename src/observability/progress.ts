/**
 * Progress of long work (a batch run, a backfill): items (objects), bytes,
 * rows/s and rejects. On a terminal a live bar (cli-progress) on stderr; off
 * one, a structured log line at a fixed interval and a final summary, so
 * logs stay machine-readable. Callers see one interface either way.
 */
import { SingleBar } from 'cli-progress';
import type { Logger } from 'pino';

export interface ProgressTotals {
  /** Items to process (objects, files); unknown when absent. */
  items?: number;
  /** Bytes to process; when known, the bar tracks bytes rather than items. */
  bytes?: number;
}

export interface ProgressDelta {
  items?: number;
  bytes?: number;
  rows?: number;
  rejects?: number;
}

export interface ProgressSnapshot {
  items: number;
  bytes: number;
  rows: number;
  rejects: number;
  totalItems: number | undefined;
  totalBytes: number | undefined;
  elapsedMs: number;
  /** Rows per second since start. */
  rowsPerSec: number;
}

export interface ProgressReporter {
  start(total?: ProgressTotals): void;
  update(delta: ProgressDelta): void;
  /** Ends the report (final line or bar) and returns the totals. */
  stop(): ProgressSnapshot;
  snapshot(): ProgressSnapshot;
}

export interface ProgressOptions {
  /** What is being done, e.g. `batch run 2026-01-31`. */
  label: string;
  /** Receives the interval lines when not on a terminal. */
  logger: Logger;
  /** Where the bar is drawn (default stderr, so stdout stays clean). */
  stream?: NodeJS.WriteStream;
  /** Draw a bar; default: whether `stream` is a terminal. */
  tty?: boolean;
  /** Milliseconds between log lines off a terminal (default 10 s). */
  intervalMs?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Running totals shared by both renderers. */
class Tally {
  items = 0;
  bytes = 0;
  rows = 0;
  rejects = 0;
  totalItems: number | undefined;
  totalBytes: number | undefined;
  private startedAt: number;

  constructor(private readonly now: () => number) {
    this.startedAt = now();
  }

  start(total: ProgressTotals): void {
    this.totalItems = total.items;
    this.totalBytes = total.bytes;
    this.startedAt = this.now();
  }

  add(delta: ProgressDelta): void {
    this.items += delta.items ?? 0;
    this.bytes += delta.bytes ?? 0;
    this.rows += delta.rows ?? 0;
    this.rejects += delta.rejects ?? 0;
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = Math.max(0, this.now() - this.startedAt);
    return {
      items: this.items,
      bytes: this.bytes,
      rows: this.rows,
      rejects: this.rejects,
      totalItems: this.totalItems,
      totalBytes: this.totalBytes,
      elapsedMs: Math.round(elapsedMs),
      rowsPerSec: elapsedMs > 0 ? Math.round((this.rows * 1000) / elapsedMs) : 0,
    };
  }
}

/** A reporter suited to where output goes: a bar on a terminal, log lines elsewhere. */
export function createProgress(options: ProgressOptions): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const now = options.now ?? (() => performance.now());
  return tty ? new BarProgress(options.label, stream, now) : new LogProgress(options.label, options.logger, options.intervalMs ?? 10_000, now);
}

/** Off a terminal: one `progress` log line per interval, one `done` line at the end. */
export class LogProgress implements ProgressReporter {
  private readonly tally: Tally;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastRows = 0;
  private lastAt: number;

  constructor(
    private readonly label: string,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {
    this.tally = new Tally(now);
    this.lastAt = now();
  }

  start(total: ProgressTotals = {}): void {
    this.tally.start(total);
    this.lastAt = this.now();
    this.lastRows = 0;
    this.logger.info({ progress: { label: this.label, totalItems: total.items, totalBytes: total.bytes } }, `${this.label}: started`);
    this.timer = setInterval(() => this.report(), this.intervalMs);
    this.timer.unref();
  }

  update(delta: ProgressDelta): void {
    this.tally.add(delta);
  }

  snapshot(): ProgressSnapshot {
    return this.tally.snapshot();
  }

  stop(): ProgressSnapshot {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const snap = this.tally.snapshot();
    this.logger.info({ progress: { label: this.label, ...snap } }, `${this.label}: done`);
    return snap;
  }

  /** One interval line; `intervalRowsPerSec` is the rate over the last interval only. */
  private report(): void {
    const snap = this.tally.snapshot();
    const at = this.now();
    const seconds = (at - this.lastAt) / 1000;
    const intervalRowsPerSec = seconds > 0 ? Math.round((snap.rows - this.lastRows) / seconds) : 0;
    this.lastAt = at;
    this.lastRows = snap.rows;
    this.logger.info({ progress: { label: this.label, ...snap, intervalRowsPerSec } }, `${this.label}: ${describe(snap)}`);
  }
}

/** On a terminal: a live bar with items, bytes, rows/s and rejects. */
export class BarProgress implements ProgressReporter {
  private readonly tally: Tally;
  private readonly bar: SingleBar;
  private byBytes = false;

  constructor(label: string, stream: NodeJS.WriteStream, now: () => number) {
    this.tally = new Tally(now);
    this.bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {itemsText} | {bytesText} | {rate} rows/s | {rejects} rejects | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      fps: 5,
      etaBuffer: 50,
    });
  }

  start(total: ProgressTotals = {}): void {
    this.tally.start(total);
    this.byBytes = (total.bytes ?? 0) > 0;
    const max = this.byBytes ? (total.bytes ?? 0) : (total.items ?? 0);
    this.bar.start(max, 0, this.payload());
  }

  update(delta: ProgressDelta): void {
    this.tally.add(delta);
    this.bar.update(this.byBytes ? this.tally.bytes : this.tally.items, this.payload());
  }

  snapshot(): ProgressSnapshot {
    return this.tally.snapshot();
  }

  stop(): ProgressSnapshot {
    this.bar.update(this.byBytes ? this.tally.bytes : this.tally.items, this.payload());
    this.bar.stop();
    return this.tally.snapshot();
  }

  private payload(): Record<string, string | number> {
    const s = this.tally.snapshot();
    return {
      itemsText: s.totalItems !== undefined ? `${s.items}/${s.totalItems} items` : `${s.items} items`,
      bytesText: s.totalBytes !== undefined ? `${humanBytes(s.bytes)}/${humanBytes(s.totalBytes)}` : humanBytes(s.bytes),
      rate: s.rowsPerSec,
      rejects: s.rejects,
    };
  }
}

function describe(s: ProgressSnapshot): string {
  const items = s.totalItems !== undefined ? `${s.items}/${s.totalItems} items` : `${s.items} items`;
  return `${items}, ${humanBytes(s.bytes)}, ${s.rows} rows (${s.rowsPerSec} rows/s), ${s.rejects} rejects`;
}

/** `1536` → `1.5 KiB`. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
