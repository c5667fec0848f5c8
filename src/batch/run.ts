/**
 * `pulse batch run`: one run from listing to publishing.
 *
 * lock → plan (inputs, coverage ends) → stream every object through the
 * fused pipeline → fold states in input order → snapshots → manifests →
 * audit report → unlock. Exit status: success (0), partial (1: some objects
 * could not be read; the rest is published and the manifest lists what is
 * missing), failed (2: config, lock, nothing publishable), error (3).
 */
import type { Logger } from 'pino';
import { openStore, type ObjectStore } from '../storage/index.js';
import { buildAudit, EXIT_CODES, summarise, writeAudit, type AuditContext, type AuditReport, type PublishedView, type RunStatus } from './audit.js';
import { EventLog, eventsKey } from './events.js';
import { newRunId, versionOf } from './ids.js';
import type { InputObject, PartitionRange } from './inputs.js';
import type { BatchJob } from './job.js';
import { LockHeldError, LockLostError, RunLock } from './lock.js';
import { pruneVersions } from './manifest.js';
import { PipelineError, type ObjectJob, type ObjectResult } from './object.js';
import { coverageMap, makePlan, type RunPlan } from './plan.js';
import { processInputs } from './process.js';
import type { BatchProgress } from './progress.js';
import { publishViews } from './publish.js';
import { runRejectPrefix } from './rejects.js';

export interface RunOptions {
  log: Logger;
  /** Default: a fresh `<UTC timestamp>-<hex>` id. */
  runId?: string;
  partitions?: PartitionRange;
  progress?: BatchProgress;
  /** Stops the run between chunks (it then fails, publishing nothing). */
  signal?: AbortSignal;
  /** Level of `object.done` lines in the process log (default info; debug under a progress bar). */
  objectEventLevel?: 'info' | 'debug';
  /** Retention: keep this many batch versions per view (the new one included) and delete older snapshots. Default: keep all. */
  keepVersions?: number;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  exitCode: 0 | 1 | 2 | 3;
  message?: string;
  audit?: AuditReport;
}

export interface Stores {
  source: ObjectStore;
  views: ObjectStore;
  errors: ObjectStore;
}

/** Rejects stream as multipart uploads: small parts, one at a time, keep each upload's buffer small. */
const REJECT_UPLOAD = { partSize: 5 * 1024 * 1024, queueSize: 1 };

/** Opens the three locations; a location that cannot be opened is a config problem (exit 2). */
export function openStores(job: BatchJob): Stores {
  try {
    return {
      source: openStore(job.source, job.storeOptions),
      views: openStore(job.viewStore, job.storeOptions),
      errors: openStore(job.errors, { ...job.storeOptions, ...REJECT_UPLOAD }),
    };
  } catch (err) {
    throw new RunFailure('failed', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** What every audit report of a run (whole, shard or merge) says about where and how it ran. */
export function auditContext(job: BatchJob, stores: Stores, runId: string, startedAt: number, shard?: { index: number; count: number }): AuditContext {
  return {
    runId,
    version: versionOf(runId),
    startedAt,
    source: stores.source.url,
    viewStore: stores.views.url,
    errors: stores.errors.url,
    rejectsPrefix: runRejectPrefix(runId),
    concurrency: job.concurrency,
    chunkSize: job.chunkSize,
    ...(shard ? { shard } : {}),
  };
}

/** Why a run ended early: the status it ends with and the message it gives. */
export class RunFailure extends Error {
  override name = 'RunFailure';
  constructor(
    readonly status: RunStatus,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maps what went wrong to a run status: config, lock and pipeline problems fail (2), anything else is internal (3). */
export function classify(err: unknown): { status: RunStatus; message: string } {
  if (err instanceof RunFailure) return { status: err.status, message: err.message };
  if (err instanceof LockHeldError || err instanceof LockLostError || err instanceof PipelineError) return { status: 'failed', message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 'error', message: `internal error: ${message}` };
}

/** Status of a run that read its inputs: partial when some could not be read, failed when none could. */
export function statusOf(results: readonly ObjectResult[]): { status: RunStatus; message?: string } {
  const failed = results.filter((r) => r.status === 'failed');
  if (results.length > 0 && failed.length === results.length) {
    return { status: 'failed', message: `none of the ${results.length} input objects could be read; nothing published` };
  }
  if (failed.length > 0) {
    return { status: 'partial', message: `${failed.length} of ${results.length} input objects could not be read: ${failed.map((r) => r.input.key).join(', ')}` };
  }
  return { status: 'success' };
}

export function objectJob(job: BatchJob, plan: RunPlan, stores: Stores, log: Logger, progress: BatchProgress | undefined, signal: AbortSignal): ObjectJob {
  return {
    spec: job.spec,
    coverage: coverageMap(plan),
    source: stores.source,
    errors: stores.errors,
    runId: plan.runId,
    chunkSize: job.chunkSize,
    attempts: job.objectAttempts ?? 3,
    log,
    ...(progress ? { progress } : {}),
    signal,
  };
}

export async function runBatch(job: BatchJob, options: RunOptions): Promise<RunResult> {
  const startedAt = Date.now();
  const runId = options.runId ?? newRunId(startedAt);
  const log = options.log.child({ runId });
  const stop = new AbortController();
  let stores: Stores;
  let lock: RunLock;
  try {
    stores = openStores(job);
    lock = await RunLock.acquire(stores.views, runId, {
      ttlMs: job.lockTtlMs,
      onLost: (err) => stop.abort(err),
      onRefreshError: (err) => log.warn({ err }, 'could not renew the run lock; trying again'),
    });
  } catch (err) {
    return failedEarly(runId, err, log);
  }
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;

  const events = new EventLog(stores.views, eventsKey(runId), runId, log, options.objectEventLevel);
  events.emit('run.start', { source: stores.source.url, viewStore: stores.views.url, errors: stores.errors.url, concurrency: job.concurrency, chunkSize: job.chunkSize });
  const ctx = auditContext(job, stores, runId, startedAt);
  const timings = { planMs: 0, processMs: 0, publishMs: 0 };
  let plan: RunPlan | undefined;
  let results: ObjectResult[] = [];
  let published: PublishedView[] = [];
  let outcome: { status: RunStatus; message?: string };
  try {
    let t = performance.now();
    plan = await makePlan({
      runId,
      startedAt,
      spec: job.spec,
      source: stores.source,
      ...(options.partitions ? { partitions: options.partitions } : {}),
      allowedLatenessMs: job.allowedLatenessMs,
    });
    timings.planMs = performance.now() - t;
    if (plan.inputs.length === 0) throw new RunFailure('failed', `no input objects under ${stores.source.url}${plan.skipped ? ` in the partition range (${plan.skipped} outside it)` : ''}; nothing to publish`);
    log.info({ objects: plan.inputs.length, bytes: totalBytes(plan.inputs), coverage: plan.views.map((v) => [v.name, new Date(v.coverageEnd).toISOString()]) }, 'run planned');

    t = performance.now();
    options.progress?.start(plan.inputs.length, totalBytes(plan.inputs));
    const processed = await processInputs(objectJob(job, plan, stores, log, options.progress, signal), plan.inputs, job.concurrency, (r) => {
      options.progress?.objectDone(r.status === 'failed');
      emitObject(events, r);
    }).finally(() => options.progress?.stop());
    results = processed.results;
    timings.processMs = performance.now() - t;
    outcome = statusOf(results);
    if (outcome.status === 'failed') throw new RunFailure('failed', outcome.message!);

    t = performance.now();
    published = await publishViews({
      plan,
      states: processed.states,
      results,
      totals: summarise(results).totals,
      store: stores.views,
      events,
      beforeManifests: () => lock.verify(),
    });
    timings.publishMs = performance.now() - t;
    if (options.keepVersions !== undefined) await pruneOldVersions(stores.views, published, options.keepVersions, log);
  } catch (err) {
    outcome = classify(signal.aborted && signal.reason instanceof Error ? signal.reason : err);
    if (outcome.status === 'error') log.error({ err }, outcome.message);
    else log.error(outcome.message);
  }
  const audit = buildAudit({ ctx, ...(plan ? { plan } : {}), results, inputs: plan?.inputs ?? [], status: outcome.status, ...(outcome.message ? { message: outcome.message } : {}), published, timings });
  await finishRun(stores.views, events, lock, audit, log);
  return { runId, status: outcome.status, exitCode: EXIT_CODES[outcome.status], ...(outcome.message ? { message: outcome.message } : {}), audit };
}

/**
 * Applies the retention after a publish. A failure here is logged, not
 * fatal: the new version is already published.
 */
export async function pruneOldVersions(store: ObjectStore, published: readonly PublishedView[], keep: number, log: Logger): Promise<void> {
  for (const p of published) {
    try {
      const deleted = await pruneVersions(store, p.view, p.version, keep);
      if (deleted.length) log.info({ view: p.view, deleted, keep }, 'deleted old batch versions');
    } catch (err) {
      log.warn({ err, view: p.view }, 'could not delete old batch versions');
    }
  }
}

/** The result of a run that ended before it could record anything (stores, lock). */
export function failedEarly(runId: string, err: unknown, log: Logger): RunResult {
  const { status, message } = classify(err);
  log.error({ status }, message);
  return { runId, status, exitCode: EXIT_CODES[status], message };
}

export function totalBytes(inputs: readonly InputObject[]): number {
  return inputs.reduce((n, i) => n + i.size, 0);
}

export function emitObject(events: EventLog, r: ObjectResult): void {
  if (r.status === 'done') {
    events.emit('object.done', { key: r.input.key, etag: r.input.etag, size: r.input.size, ms: Math.round(r.ms), attempts: r.attempts, ...r.counts, ...(r.rejectsKey ? { rejects: r.rejectsKey } : {}) });
  } else {
    events.emit('object.failed', { key: r.input.key, etag: r.input.etag, size: r.input.size, attempts: r.attempts, error: r.error });
  }
}

/** Audit report, run.end, final event log write, unlock: done whatever happened before. */
export async function finishRun(store: ObjectStore, events: EventLog, lock: RunLock | undefined, audit: AuditReport, log: Logger, key?: string): Promise<void> {
  try {
    await writeAudit(store, audit, key);
  } catch (err) {
    log.error({ err }, 'could not write the audit report');
  }
  events.emit('run.end', { status: audit.status, exitCode: audit.exitCode, ...(audit.message ? { message: audit.message } : {}), durationMs: audit.durationMs, objects: audit.totals.objects, objectsFailed: audit.totals.objectsFailed, records: audit.totals.records, rejected: audit.totals.rejected, published: audit.published.map((p) => p.view) });
  await events.close().catch((err: unknown) => log.error({ err }, 'could not write the event log'));
  await lock?.release().catch((err: unknown) => log.error({ err }, 'could not release the run lock'));
}
