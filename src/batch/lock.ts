/**
 * The batch run lock (`locks/batch.lock`): two runs never publish at once.
 *
 * Taken with `putIfAbsent`, so of two runs starting together exactly one
 * wins. The holder refreshes `expiresAt` while it runs; a lock past its
 * expiry was left by a run that died and may be taken over. A takeover is
 * itself claimed with `putIfAbsent` on a marker named after the stale
 * holder, so of several runs finding the same stale lock only one deletes
 * it and takes its place. The holder checks it still owns the lock before it
 * publishes.
 */
import { hostname } from 'node:os';
import { NotFoundError, type ObjectStore } from '../storage/index.js';

export const LOCK_KEY = 'locks/batch.lock';
const TAKEOVER_PREFIX = 'locks/batch.lock.takeover.';

export interface LockRecord {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  expiresAt: string;
}

/** Another run holds the lock. */
export class LockHeldError extends Error {
  override name = 'LockHeldError';
  constructor(readonly holder: LockRecord | undefined) {
    super(
      holder
        ? `another batch run holds the lock: run ${holder.runId} on ${holder.host} (pid ${holder.pid}) since ${holder.startedAt}, until ${holder.expiresAt} unless renewed`
        : 'another batch run holds the lock',
    );
  }
}

/** This run's lock was taken over or removed while it ran; it must not publish. */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

function parseLock(bytes: Buffer): LockRecord | undefined {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as Partial<LockRecord>;
    if (typeof v.runId === 'string' && typeof v.expiresAt === 'string') return v as LockRecord;
  } catch {
    // an unreadable lock is treated as stale below
  }
  return undefined;
}

async function readLock(store: ObjectStore): Promise<LockRecord | undefined | null> {
  try {
    return parseLock(await store.getBytes(LOCK_KEY));
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

function isExpired(lock: LockRecord | undefined, now: number): boolean {
  if (!lock) return true;
  const t = Date.parse(lock.expiresAt);
  return !Number.isFinite(t) || t <= now;
}

export interface LockOptions {
  ttlMs: number;
  /** How often the holder renews `expiresAt` (default a third of the TTL). */
  refreshMs?: number;
  /** Told once when a renewal finds the lock taken over or gone. */
  onLost?: (err: LockLostError) => void;
  /** Told when a renewal fails for another reason (it is tried again next time). */
  onRefreshError?: (err: unknown) => void;
  now?: () => number;
}

export class RunLock {
  private timer: NodeJS.Timeout | undefined;
  private lost: LockLostError | undefined;
  private record: LockRecord;
  private readonly now: () => number;
  private readonly startedAt: string;

  private constructor(
    private readonly store: ObjectStore,
    readonly runId: string,
    private readonly options: LockOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.startedAt = new Date(this.now()).toISOString();
    this.record = this.fresh();
  }

  /** Takes the lock or throws `LockHeldError` naming the holder. */
  static async acquire(store: ObjectStore, runId: string, options: LockOptions): Promise<RunLock> {
    const lock = new RunLock(store, runId, options);
    await lock.take();
    lock.startRefreshing();
    return lock;
  }

  /** Whoever holds the lock now, if anyone (for `pulse runs` and messages). */
  static async holder(store: ObjectStore): Promise<LockRecord | undefined> {
    return (await readLock(store)) ?? undefined;
  }

  private fresh(): LockRecord {
    const now = this.now();
    return {
      runId: this.runId,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      expiresAt: new Date(now + this.options.ttlMs).toISOString(),
    };
  }

  private body(): Buffer {
    return Buffer.from(JSON.stringify(this.record) + '\n');
  }

  private async take(): Promise<void> {
    if (await this.store.putIfAbsent(LOCK_KEY, this.body(), { contentType: 'application/json' })) return;
    const current = await readLock(this.store);
    if (current === null) {
      // released between our attempt and the read: one more try, no loop
      if (await this.store.putIfAbsent(LOCK_KEY, this.body())) return;
      throw new LockHeldError((await readLock(this.store)) ?? undefined);
    }
    if (!isExpired(current, this.now())) throw new LockHeldError(current);
    // Stale: claim the takeover of this particular holder, then replace it.
    const marker = `${TAKEOVER_PREFIX}${current?.runId ?? 'unreadable'}`;
    const claimed = await this.store.putIfAbsent(marker, Buffer.from(JSON.stringify({ by: this.runId, at: new Date(this.now()).toISOString() })));
    if (!claimed) throw new LockHeldError(current);
    await this.store.delete(LOCK_KEY);
    if (!(await this.store.putIfAbsent(LOCK_KEY, this.body(), { contentType: 'application/json' }))) {
      throw new LockHeldError((await readLock(this.store)) ?? undefined);
    }
    await this.pruneTakeoverMarkers();
  }

  /** Markers older than two TTLs can no longer matter: every taker of that lock has long given up. */
  private async pruneTakeoverMarkers(): Promise<void> {
    const cutoff = this.now() - 2 * this.options.ttlMs;
    for await (const info of this.store.list(TAKEOVER_PREFIX)) {
      if (info.lastModified.getTime() < cutoff) await this.store.delete(info.key);
    }
  }

  private startRefreshing(): void {
    const every = this.options.refreshMs ?? Math.max(1, Math.floor(this.options.ttlMs / 3));
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => {
        if (err instanceof LockLostError) this.options.onLost?.(err);
        else this.options.onRefreshError?.(err);
      });
    }, every);
    this.timer.unref();
  }

  /** Renews `expiresAt`, or records that the lock was lost. */
  async refresh(): Promise<void> {
    if (this.lost) return;
    await this.verify();
    this.record = this.fresh();
    await this.store.put(LOCK_KEY, this.body(), { contentType: 'application/json' });
  }

  /** Set once a refresh found the lock gone or taken over. */
  get lostError(): LockLostError | undefined {
    return this.lost;
  }

  /** Throws `LockLostError` unless this run still holds the lock. */
  async verify(): Promise<void> {
    if (this.lost) throw this.lost;
    const current = await readLock(this.store);
    if (!current || current.runId !== this.runId) {
      this.lost = new LockLostError(
        current ? `the batch lock was taken over by run ${current.runId} on ${current.host}` : 'the batch lock disappeared while the run held it',
      );
      throw this.lost;
    }
  }

  /** Stops renewing and deletes the lock if it is still ours. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const current = await readLock(this.store).catch(() => undefined);
    if (current && current.runId === this.runId) await this.store.delete(LOCK_KEY);
  }
}
