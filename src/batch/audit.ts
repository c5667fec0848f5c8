/**
 * The run's audit report (`runs/<runId>/audit.json`): what was read (keys
 * with ETags), what came of each object, rejects by rule and kind, what was
 * published, and how long each phase took.
 */
import { hostname } from 'node:os';
import type { ObjectStore } from '../storage/index.js';
import { auditKey } from './events.js';
import type { InputObject } from './inputs.js';
import { addCounts, zeroCounts, type ObjectCounts, type ObjectResult } from './object.js';
import type { RunPlan } from './plan.js';

export type RunStatus = 'success' | 'partial' | 'failed' | 'error';

/** Exit codes of `pulse batch run`: 0 success, 1 partial (objects failed to read), 2 failure, 3 internal error. */
export const EXIT_CODES: Record<RunStatus, 0 | 1 | 2 | 3> = { success: 0, partial: 1, failed: 2, error: 3 };

export interface PublishedView {
  view: string;
  version: string;
  coverageEnd: number;
  snapshot: string;
  snapshotSha256: string;
  snapshotBytes: number;
  manifest: string;
}

export interface AuditInput extends InputObject {
  status: 'done' | 'failed' | 'not-run';
  attempts: number;
  ms: number;
  counts: ObjectCounts;
  rejectsKey?: string;
  error?: string;
}

export interface AuditReport {
  runId: string;
  version: string;
  status: RunStatus;
  exitCode: 0 | 1 | 2 | 3;
  message?: string;
  host: string;
  pid: number;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  source: string;
  viewStore: string;
  errors: string;
  /** Folder of this run's rejects under the errors location. */
  rejectsPrefix: string;
  partitions?: { from?: string; to?: string };
  shard?: { index: number; count: number };
  concurrency: number;
  chunkSize: number;
  hashes?: { rules: string; schema: string; views: Record<string, string> };
  coverage: { view: string; coverageEnd: number; coverageEndIso: string; alignmentMs: number }[];
  archiveProgress: { key: string; watermark: number | null }[];
  allowedLatenessMs: number;
  inputs: AuditInput[];
  totals: ObjectCounts & { objects: number; objectsDone: number; objectsFailed: number; objectsSkipped: number; rejected: number };
  rejectsByKind: Record<string, number>;
  rejectsByRule: Record<string, number>;
  warnedByRule: Record<string, number>;
  published: PublishedView[];
  timings: { planMs: number; processMs: number; publishMs: number };
  /** Peak resident set size of the process (bytes). */
  maxRssBytes: number;
}

export interface AuditContext {
  runId: string;
  version: string;
  startedAt: number;
  source: string;
  viewStore: string;
  errors: string;
  rejectsPrefix: string;
  concurrency: number;
  chunkSize: number;
  shard?: { index: number; count: number };
}

/** Sums per-object results into run totals. */
export function summarise(results: readonly (ObjectResult | undefined)[]) {
  const totals = { ...zeroCounts(), objects: results.length, objectsDone: 0, objectsFailed: 0, objectsSkipped: 0, rejected: 0 };
  const rejectsByKind: Record<string, number> = {};
  const rejectsByRule: Record<string, number> = {};
  const warnedByRule: Record<string, number> = {};
  for (const r of results) {
    if (!r) continue;
    if (r.status === 'done') totals.objectsDone++;
    else totals.objectsFailed++;
    addCounts(totals, r.counts);
    for (const [k, n] of Object.entries(r.rejectsByKind)) rejectsByKind[k] = (rejectsByKind[k] ?? 0) + n;
    for (const c of r.ruleCounters) {
      if (c.failed) rejectsByRule[c.id] = (rejectsByRule[c.id] ?? 0) + c.failed;
      if (c.warned) warnedByRule[c.id] = (warnedByRule[c.id] ?? 0) + c.warned;
    }
  }
  totals.rejected = totals.parseRejects + totals.ruleRejects + totals.late;
  return { totals, rejectsByKind, rejectsByRule, warnedByRule };
}

export function buildAudit(args: {
  ctx: AuditContext;
  plan?: RunPlan;
  results: readonly (ObjectResult | undefined)[];
  inputs: readonly InputObject[];
  status: RunStatus;
  message?: string;
  published: PublishedView[];
  timings: AuditReport['timings'];
}): AuditReport {
  const { ctx, plan } = args;
  const ended = Date.now();
  const summary = summarise(args.results);
  summary.totals.objects = args.inputs.length;
  summary.totals.objectsSkipped = plan?.skipped ?? 0;
  return {
    runId: ctx.runId,
    version: ctx.version,
    status: args.status,
    exitCode: EXIT_CODES[args.status],
    ...(args.message ? { message: args.message } : {}),
    host: hostname(),
    pid: process.pid,
    startedAt: new Date(ctx.startedAt).toISOString(),
    endedAt: new Date(ended).toISOString(),
    durationMs: ended - ctx.startedAt,
    source: ctx.source,
    viewStore: ctx.viewStore,
    errors: ctx.errors,
    rejectsPrefix: ctx.rejectsPrefix,
    ...(plan?.partitions ? { partitions: plan.partitions } : {}),
    ...(ctx.shard ? { shard: ctx.shard } : {}),
    concurrency: ctx.concurrency,
    chunkSize: ctx.chunkSize,
    ...(plan
      ? { hashes: { rules: plan.rulesHash, schema: plan.schemaHash, views: Object.fromEntries(plan.views.map((v) => [v.name, v.viewHash])) } }
      : {}),
    coverage: (plan?.views ?? []).map((v) => ({
      view: v.name,
      coverageEnd: v.coverageEnd,
      coverageEndIso: new Date(v.coverageEnd).toISOString(),
      alignmentMs: v.alignmentMs,
    })),
    archiveProgress: plan?.archiveProgress ?? [],
    allowedLatenessMs: plan?.allowedLatenessMs ?? 0,
    inputs: args.inputs.map((input, i) => {
      const r = args.results[i];
      if (!r) return { ...input, status: 'not-run', attempts: 0, ms: 0, counts: zeroCounts() };
      return {
        ...input,
        status: r.status,
        attempts: r.attempts,
        ms: Math.round(r.ms),
        counts: r.counts,
        ...(r.rejectsKey ? { rejectsKey: r.rejectsKey } : {}),
        ...(r.error ? { error: r.error } : {}),
      };
    }),
    ...summary,
    published: args.published,
    timings: args.timings,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

export async function writeAudit(store: ObjectStore, report: AuditReport, key: string = auditKey(report.runId)): Promise<string> {
  await store.put(key, Buffer.from(JSON.stringify(report, null, 2) + '\n'), { contentType: 'application/json' });
  return key;
}
