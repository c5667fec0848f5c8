/**
 * One input object through one fresh pipeline: stream it from the store,
 * decode, feed it chunk by chunk, end the stream, and write its rejects.
 *
 * Each object gets its own pipeline, so a failed attempt is simply thrown
 * away and retried from the first byte, and the run can fold the objects'
 * states in input order whatever order they finish in (see `fold.ts`).
 */
import type { Logger } from 'pino';
import { NotFoundError, type ObjectStore } from '../storage/index.js';
import { DecodeError, decodedBytes, rechunk } from './decode.js';
import type { InputObject } from './inputs.js';
import { Pipeline, type PipelineSpec, type PushReport } from './pipeline-port.js';
import { RejectFile } from './rejects.js';

/** Counters of one object (or, summed, of a run). */
export interface ObjectCounts {
  /** Bytes read from the store (compressed bytes for gzip objects). */
  bytes: number;
  records: number;
  applied: number;
  warned: number;
  parseRejects: number;
  ruleRejects: number;
  late: number;
  /** Row × view pairs skipped because the row is at or after the view's coverage end. */
  outOfRange: number;
}

export function zeroCounts(): ObjectCounts {
  return { bytes: 0, records: 0, applied: 0, warned: 0, parseRejects: 0, ruleRejects: 0, late: 0, outOfRange: 0 };
}

const COUNT_KEYS = Object.keys(zeroCounts()) as (keyof ObjectCounts)[];

export function addCounts(into: ObjectCounts, from: ObjectCounts): void {
  for (const k of COUNT_KEYS) into[k] += from[k];
}

export interface RuleCount {
  id: string;
  severity: string;
  evaluated: number;
  failed: number;
  warned: number;
}

export interface ObjectResult {
  input: InputObject;
  status: 'done' | 'failed';
  counts: ObjectCounts;
  /** Rejects by kind (`malformed_json`, `rule_failed`, …). */
  rejectsByKind: Record<string, number>;
  ruleCounters: RuleCount[];
  /** Key of the rejects file under the errors location, when the object had rejects. */
  rejectsKey?: string;
  attempts: number;
  ms: number;
  error?: string;
  /** The object's view states; handed to the fold, then dropped. */
  pipeline?: Pipeline;
}

/** Live counters for the progress display. */
export interface ProgressTap {
  bytes(n: number): void;
  records(n: number): void;
  rejects(n: number): void;
}

export interface ObjectJob {
  spec: PipelineSpec;
  /** Coverage end T of each view: only events before it enter the view. */
  coverage: ReadonlyMap<string, number>;
  source: ObjectStore;
  errors: ObjectStore;
  runId: string;
  chunkSize: number;
  /** Attempts per object for read failures (each attempt is itself retried by the SDK). */
  attempts: number;
  log: Logger;
  progress?: ProgressTap;
  /** Set when the run is stopping (lock lost, fatal error): abandon the object. */
  signal?: AbortSignal;
}

/** A pipeline with each view restricted to events before its coverage end. */
export function createPipeline(spec: PipelineSpec, coverage: ReadonlyMap<string, number>, minTime: number): Pipeline {
  try {
    const pipeline = Pipeline.create(spec);
    for (const [view, end] of coverage) pipeline.setViewRange(view, minTime, end);
    return pipeline;
  } catch (err) {
    throw new PipelineError(`cannot compile the pipeline: ${message(err)}`, { cause: err });
  }
}

/** Read failures worth another attempt: not corrupt content, not a vanished object. */
function isRetryable(err: unknown): boolean {
  return !(err instanceof DecodeError) && !(err instanceof NotFoundError);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The fused pipeline's own failures (a bad spec, a halt rule): not read failures, they end the run. */
export class PipelineError extends Error {
  override name = 'PipelineError';
}

export async function processObject(job: ObjectJob, input: InputObject, minTime: number): Promise<ObjectResult> {
  const started = performance.now();
  let lastError: unknown;
  let attempts = 0;
  for (let attempt = 1; attempt <= job.attempts; attempt++) {
    attempts = attempt;
    job.signal?.throwIfAborted();
    const rejects = new RejectFile(job.errors, job.runId, input.key);
    const pipeline = createPipeline(job.spec, job.coverage, minTime);
    const counts = zeroCounts();
    const byKind: Record<string, number> = {};
    try {
      await feedObject(job, input, pipeline, counts, byKind, rejects);
      const rejectsKey = await rejects.close();
      return {
        input,
        status: 'done',
        counts,
        rejectsByKind: byKind,
        ruleCounters: pipeline.ruleCounters(),
        ...(rejectsKey ? { rejectsKey } : {}),
        attempts: attempt,
        ms: performance.now() - started,
        pipeline,
      };
    } catch (err) {
      pipeline.close();
      await rejects.abort();
      if (err instanceof PipelineError || job.signal?.aborted) throw err;
      lastError = err;
      const retry = isRetryable(err) && attempt < job.attempts;
      job.log.warn({ object: input.key, attempt, err: message(err), retry }, retry ? 'object read failed; retrying' : 'object read failed');
      if (!retry) break;
    }
  }
  return {
    input,
    status: 'failed',
    counts: zeroCounts(),
    rejectsByKind: {},
    ruleCounters: [],
    attempts,
    ms: performance.now() - started,
    error: message(lastError),
  };
}

/** Streams the object into the pipeline, keeping one chunk in flight while the next is read. */
async function feedObject(
  job: ObjectJob,
  input: InputObject,
  pipeline: Pipeline,
  counts: ObjectCounts,
  byKind: Record<string, number>,
  rejects: RejectFile,
): Promise<void> {
  const absorb = async (report: PushReport) => {
    counts.records += report.records;
    counts.applied += report.applied;
    counts.warned += report.warned;
    counts.parseRejects += report.parseRejects;
    counts.ruleRejects += report.ruleRejects;
    counts.late += report.late;
    counts.outOfRange += report.outOfRange;
    for (const r of report.rejects) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
    job.progress?.records(report.records);
    job.progress?.rejects(report.rejects.length);
    await rejects.write(report.rejects);
  };
  const native = <T>(call: () => Promise<T>): Promise<T> =>
    call().catch((err: unknown) => {
      throw new PipelineError(`object '${input.key}': ${message(err)}`, { cause: err });
    });

  const body = await job.source.read(input.key);
  const onRaw = (n: number) => {
    counts.bytes += n;
    job.progress?.bytes(n);
  };
  let inFlight: Promise<PushReport> | undefined;
  try {
    for await (const chunk of rechunk(decodedBytes(input.key, body, onRaw), job.chunkSize)) {
      job.signal?.throwIfAborted();
      if (inFlight) await absorb(await inFlight);
      inFlight = native(() => pipeline.pushAsync(chunk));
    }
    if (inFlight) await absorb(await inFlight);
    inFlight = undefined;
    await absorb(await native(() => pipeline.finishAsync()));
  } finally {
    // a failed read leaves no push running behind our back
    await inFlight?.catch(() => {});
    body.destroy();
  }
}
