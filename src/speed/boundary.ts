/**
 * The time boundary: when a batch run publishes a view with coverage end T,
 * its panes cover every event before T, so the speed layer keeps only
 * events at or after T in that view and drops its panes ending at or
 * before T. The watcher polls each view's batch manifest.
 */
import type { SpeedLogger, SpeedStore } from './ports.js';
import { readJson } from './ports.js';

/** The part of a batch manifest the speed layer reads. */
interface ManifestCoverage {
  coverageEnd?: unknown;
}

export function manifestKey(view: string): string {
  return `views/${view}/batch/manifest.json`;
}

/** Far enough in the future to stand for "no upper bound" in a view range. */
export const OPEN_END = Number.MAX_SAFE_INTEGER;

export class BoundaryWatcher {
  /** View → the newest coverage end seen. */
  readonly coverage: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly store: SpeedStore,
    private readonly views: string[],
    private readonly onChange: () => void,
    private readonly logger: SpeedLogger,
  ) {}

  /** Reads every manifest once; resolves true when a coverage end moved forward. */
  async poll(): Promise<boolean> {
    let moved = false;
    for (const view of this.views) {
      let manifest: ManifestCoverage | undefined;
      try {
        manifest = await readJson<ManifestCoverage>(this.store, manifestKey(view));
      } catch (err) {
        this.logger.warn({ view, err: (err as Error).message }, 'cannot read the batch manifest; keeping the current boundary');
        continue;
      }
      const t = manifest?.coverageEnd;
      if (typeof t !== 'number' || !Number.isFinite(t)) continue;
      if (this.coverage[view] === undefined || t > this.coverage[view]) {
        this.coverage[view] = t;
        moved = true;
        this.logger.info({ view, coverageEnd: new Date(t).toISOString() }, 'new batch coverage: realtime state before it will be evicted');
      }
    }
    if (moved) this.onChange();
    return moved;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch(() => false)
        .then(() => {
          this.polling = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }
}
