/**
 * The run's event log, `runs/<runId>/events.jsonl`: one JSON line per
 * event (run.start, object.done, object.failed, view.published, run.end).
 *
 * Object stores cannot append, so the log is kept in memory (one small line
 * per object) and rewritten whole, atomically, every few seconds and at the
 * end: after a crash the log still tells how far the run got. Every event
 * also goes to the process log.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../storage/index.js';

export type RunEventType = 'run.start' | 'object.done' | 'object.failed' | 'view.published' | 'run.end';

export interface RunEvent {
  type: RunEventType;
  at: string;
  runId: string;
  [field: string]: unknown;
}

export function runPrefix(runId: string): string {
  return `runs/${runId}/`;
}

export function eventsKey(runId: string): string {
  return `${runPrefix(runId)}events.jsonl`;
}

export function auditKey(runId: string): string {
  return `${runPrefix(runId)}audit.json`;
}

export class EventLog {
  private readonly lines: string[] = [];
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    private readonly runId: string,
    private readonly log: Logger,
    /** Level of the per-object events in the process log (debug under a progress bar, which shows them already). */
    private readonly objectLevel: 'info' | 'debug' = 'info',
    flushEveryMs = 5000,
  ) {
    this.timer = setInterval(() => void this.flush().catch((err: unknown) => this.log.warn({ err }, 'event log flush failed')), flushEveryMs);
    this.timer.unref();
  }

  emit(type: RunEventType, fields: Record<string, unknown> = {}): RunEvent {
    const event: RunEvent = { type, at: new Date().toISOString(), runId: this.runId, ...fields };
    this.lines.push(JSON.stringify(event));
    this.dirty = true;
    const level = type === 'object.done' ? this.objectLevel : type === 'object.failed' ? 'warn' : 'info';
    this.log[level]({ event: type, ...fields }, type);
    return event;
  }

  /** Writes the whole log if anything was added since the last write. */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const body = Buffer.from(this.lines.join('\n') + '\n');
      try {
        await this.store.put(this.key, body, { contentType: 'application/x-ndjson' });
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    return this.writing;
  }

  /** Final write; stops the periodic one. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
