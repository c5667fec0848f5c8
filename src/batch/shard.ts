/**
 * Sharded runs, for fanning one run out over machines (Kubernetes Indexed
 * Jobs, an Airflow task group): `pulse batch run --run-id ID --shard i/n`
 * processes the objects whose position mod n is i and writes partial
 * states; `pulse batch merge --run ID` merges the n partial states in shard
 * order and publishes them under the run lock.
 *
 * runs/<runId>/plan.json                 the shared plan (first shard writes it)
 * runs/<runId>/shards/<i>/<view>.arrow   shard i's partial state of a view
 * runs/<runId>/shards/<i>/result.json    shard i's commit point: per-object results
 */
import type { Logger } from 'pino';
import { NotFoundError, type ObjectStore } from '../storage/index.js';
import { MIN_EVENT_TIME } from './alignment.js';
import { buildAudit, EXIT_CODES, summarise, type PublishedView, type RunStatus } from './audit.js';
import { EventLog, eventsKey, runPrefix } from './events.js';
import { shardOf, type InputObject, type PartitionRange, type Shard } from './inputs.js';
import type { BatchJob } from './job.js';
import { RunLock } from './lock.js';
import { createPipeline, type ObjectResult } from './object.js';
import { coverageMap, makePlan, readPlan, sharedPlan, type RunPlan } from './plan.js';
import { processInputs } from './process.js';
import type { BatchProgress } from './progress.js';
import { publishViews } from './publish.js';
import { auditContext, classify, emitObject, failedEarly, finishRun, objectJob, openStores, pruneOldVersions, RunFailure, statusOf, totalBytes, type RunResult, type Stores } from './run.js';

export { parseShard, type Shard } from './inputs.js';

export function shardPrefix(runId: string, index: number): string {
  return `${runPrefix(runId)}shards/${index}/`;
}

function shardStateKey(runId: string, index: number, view: string): string {
  return `${shardPrefix(runId, index)}${view}.arrow`;
}

function shardResultKey(runId: string, index: number): string {
  return `${shardPrefix(runId, index)}result.json`;
}

interface ShardResult {
  runId: string;
  shard: Shard;
  /** Input positions (in the plan) of this shard's objects, with their results. */
  objects: { position: number; result: ObjectResult }[];
}

export interface ShardOptions {
  log: Logger;
  runId: string;
  shard: Shard;
  partitions?: PartitionRange;
  progress?: BatchProgress;
  signal?: AbortSignal;
  objectEventLevel?: 'info' | 'debug';
}

/** Processes one shard of a run and writes its partial states; publishes nothing. */
export async function runShard(job: BatchJob, options: ShardOptions): Promise<RunResult> {
  const startedAt = Date.now();
  const { runId, shard } = options;
  const log = options.log.child({ runId, shard: `${shard.index}/${shard.count}` });
  let stores: Stores;
  try {
    stores = openStores(job);
  } catch (err) {
    return failedEarly(runId, err, log);
  }
  const events = new EventLog(stores.views, `${shardPrefix(runId, shard.index)}events.jsonl`, runId, log, options.objectEventLevel);
  events.emit('run.start', { shard, source: stores.source.url });
  const ctx = auditContext(job, stores, runId, startedAt, shard);
  const timings = { planMs: 0, processMs: 0, publishMs: 0 };
  let plan: RunPlan | undefined;
  let mine: { item: InputObject; position: number }[] = [];
  let results: ObjectResult[] = [];
  let outcome: { status: RunStatus; message?: string };
  try {
    let t = performance.now();
    plan = await sharedPlan(stores.views, () =>
      makePlan({ runId, startedAt, spec: job.spec, source: stores.source, ...(options.partitions ? { partitions: options.partitions } : {}), allowedLatenessMs: job.allowedLatenessMs, shards: shard.count }),
    );
    timings.planMs = performance.now() - t;
    mine = shardOf(plan.inputs, shard.index, shard.count);
    const inputs = mine.map((m) => m.item);
    t = performance.now();
    options.progress?.start(inputs.length, totalBytes(inputs));
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const processed = await processInputs(objectJob(job, plan, stores, log, options.progress, signal), inputs, job.concurrency, (r) => {
      options.progress?.objectDone(r.status === 'failed');
      emitObject(events, r);
    }).finally(() => options.progress?.stop());
    results = processed.results;
    timings.processMs = performance.now() - t;
    outcome = statusOf(results);
    if (outcome.status === 'failed' && inputs.length > 0) throw new RunFailure('failed', outcome.message!);
    if (inputs.length === 0) outcome = { status: 'success' };
    t = performance.now();
    for (const view of plan.views) await stores.views.put(shardStateKey(runId, shard.index, view.name), processed.states.snapshot(view.name));
    const record: ShardResult = { runId, shard, objects: mine.map((m, i) => ({ position: m.position, result: results[i]! })) };
    await stores.views.put(shardResultKey(runId, shard.index), Buffer.from(JSON.stringify(record) + '\n'), { contentType: 'application/json' });
    timings.publishMs = performance.now() - t;
  } catch (err) {
    outcome = classify(err);
    log.error(outcome.message);
  }
  const audit = buildAudit({ ctx, ...(plan ? { plan } : {}), results, inputs: mine.map((m) => m.item), status: outcome.status, ...(outcome.message ? { message: outcome.message } : {}), published: [], timings });
  await finishRun(stores.views, events, undefined, audit, log, `${shardPrefix(runId, shard.index)}audit.json`);
  return { runId, status: outcome.status, exitCode: EXIT_CODES[outcome.status], ...(outcome.message ? { message: outcome.message } : {}), audit };
}

async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.getBytes(key)).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** Merges the partial states of every shard of a run, in shard order, and publishes them. */
export async function mergeShards(job: BatchJob, options: { log: Logger; runId: string; keepVersions?: number }): Promise<RunResult> {
  const startedAt = Date.now();
  const { runId } = options;
  const log = options.log.child({ runId });
  let lock: RunLock | undefined;
  let stores: Stores;
  try {
    stores = openStores(job);
    lock = await RunLock.acquire(stores.views, runId, { ttlMs: job.lockTtlMs, onRefreshError: (err) => log.warn({ err }, 'could not renew the run lock') });
  } catch (err) {
    return failedEarly(runId, err, log);
  }
  const events = new EventLog(stores.views, eventsKey(runId), runId, log);
  events.emit('run.start', { merge: true });
  const ctx = auditContext(job, stores, runId, startedAt);
  const timings = { planMs: 0, processMs: 0, publishMs: 0 };
  let plan: RunPlan | undefined;
  const results: ObjectResult[] = [];
  let published: PublishedView[] = [];
  let outcome: { status: RunStatus; message?: string };
  try {
    plan = await readPlan(stores.views, runId);
    if (!plan?.shards) throw new RunFailure('failed', `run ${runId} has no sharded plan in ${stores.views.url}; run its shards first (pulse batch run --run-id ${runId} --shard i/n)`);
    const shardResults: ShardResult[] = [];
    const missing: number[] = [];
    for (let i = 0; i < plan.shards; i++) {
      const r = await readJson<ShardResult>(stores.views, shardResultKey(runId, i));
      if (r) shardResults.push(r);
      else missing.push(i);
    }
    if (missing.length) throw new RunFailure('failed', `run ${runId}: shard(s) ${missing.map((i) => `${i}/${plan!.shards}`).join(', ')} have not finished; nothing published`);
    const t = performance.now();
    const coverage = coverageMap(plan);
    const states = createPipeline(job.spec, coverage, MIN_EVENT_TIME);
    for (const r of shardResults) {
      const part = createPipeline(job.spec, coverage, MIN_EVENT_TIME);
      for (const view of plan.views) part.restore(view.name, await stores.views.getBytes(shardStateKey(runId, r.shard.index, view.name)));
      states.merge(part);
      part.close();
    }
    const byPosition = new Array<ObjectResult>(plan.inputs.length);
    for (const r of shardResults) for (const o of r.objects) byPosition[o.position] = o.result;
    results.push(...byPosition);
    for (const r of results) emitObject(events, r);
    timings.processMs = performance.now() - t;
    outcome = statusOf(results);
    if (outcome.status === 'failed') throw new RunFailure('failed', outcome.message!);
    const p = performance.now();
    published = await publishViews({ plan, states, results, totals: summarise(results).totals, store: stores.views, events, beforeManifests: () => lock!.verify() });
    timings.publishMs = performance.now() - p;
    if (options.keepVersions !== undefined) await pruneOldVersions(stores.views, published, options.keepVersions, log);
  } catch (err) {
    outcome = classify(err);
    log.error(outcome.message);
  }
  const audit = buildAudit({ ctx, ...(plan ? { plan } : {}), results, inputs: plan?.inputs ?? [], status: outcome.status, ...(outcome.message ? { message: outcome.message } : {}), published, timings });
  await finishRun(stores.views, events, lock, audit, log);
  return { runId, status: outcome.status, exitCode: EXIT_CODES[outcome.status], ...(outcome.message ? { message: outcome.message } : {}), audit };
}
