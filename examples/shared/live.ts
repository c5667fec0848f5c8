/**
 * The live stream of an example: generated lines appended to the NDJSON file
 * the speed layer follows (`speed.source: { type: file, path }`), at a
 * steady rate with event times of "now". Every write holds whole lines, so
 * the follower never sees half a record.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { drawLines, type ExampleGenerator } from './generator.js';
import type { Rng } from './random.js';

export interface LiveOptions {
  /** The followed NDJSON file; created when missing, never truncated (the speed layer's checkpoints hold byte offsets into it). */
  file: string;
  gen: ExampleGenerator;
  rng: Rng;
  /** Draws (events or invalid lines) per second. */
  ratePerSecond: number;
  invalidShare: number;
  /** How often lines are appended (default 100 ms). */
  tickMs?: number;
  /** Wall clock (default `Date.now`). */
  now?: () => number;
  /** Called when a write fails; appending stops. */
  onError?: (error: Error) => void;
}

export interface LiveCounts {
  draws: number;
  lines: number;
  invalid: number;
}

/** At most this many seconds of backlog are written in one tick (after a stall, the stream catches up gradually). */
const MAX_CATCH_UP_S = 2;

export class LiveAppender {
  readonly counts: LiveCounts = { draws: 0, lines: 0, invalid: 0 };
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private startedAt = 0;
  private lastTick = 0;
  private stopped = false;

  private constructor(
    private readonly options: LiveOptions,
    private readonly handle: FileHandle,
  ) {}

  /** Opens (or creates) the file for appending. */
  static async open(options: LiveOptions): Promise<LiveAppender> {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`the rate must be positive, got ${options.ratePerSecond}`);
    await mkdir(dirname(options.file), { recursive: true });
    return new LiveAppender(options, await open(options.file, 'a'));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Starts appending; draws are due at `ratePerSecond` from now on. */
  start(): void {
    this.startedAt = this.lastTick = this.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.writing = this.tick().then(
        () => this.schedule(),
        (e: unknown) => {
          this.stopped = true;
          this.options.onError?.(e as Error);
        },
      );
    }, this.options.tickMs ?? 100);
  }

  /** Appends the draws due since the last tick, with event times spread over the interval. */
  async tick(): Promise<void> {
    const { gen, rng, ratePerSecond, invalidShare } = this.options;
    const now = this.now();
    const dueTotal = Math.floor(((now - this.startedAt) / 1000) * ratePerSecond);
    const due = Math.min(dueTotal - this.counts.draws, Math.ceil(ratePerSecond * MAX_CATCH_UP_S));
    if (due <= 0) return;
    const lines: string[] = [];
    for (let i = 0; i < due; i++) {
      const ts = Math.round(this.lastTick + ((i + 1) / due) * (now - this.lastTick));
      const drawn = drawLines(gen, rng, ts, invalidShare);
      lines.push(...drawn.lines);
      if (drawn.invalid) this.counts.invalid += 1;
    }
    this.lastTick = now;
    await this.handle.write(lines.join('\n') + '\n');
    this.counts.draws += due;
    this.counts.lines += lines.length;
  }

  /** Stops appending after the write in progress, and closes the file. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.writing;
    await this.handle.close();
  }
}
