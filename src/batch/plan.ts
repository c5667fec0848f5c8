/**
 * A run's plan, fixed at its start: the input objects (with ETags), each
 * view's coverage end T, and the definition hashes. Shards of one run share
 * one plan (the first shard to start writes it), so they split the same
 * object list at the same boundary.
 */
import { NotFoundError, type ObjectStore } from '../storage/index.js';
import { alignmentOf, coverageEnd, coverageLimit, type ArchiveProgress, type WindowSpec } from './alignment.js';
import { definitionHash } from './hashes.js';
import { versionOf } from './ids.js';
import { listInputs, readArchiveProgress, type InputObject, type PartitionRange } from './inputs.js';
import { runPrefix } from './events.js';
import type { PipelineSpec } from './pipeline-port.js';

export interface PlannedView {
  name: string;
  alignmentMs: number;
  coverageEnd: number;
  viewHash: string;
}

export interface RunPlan {
  runId: string;
  version: string;
  /** Run start (ms): the latest instant the coverage end may reach. */
  startedAt: number;
  source: string;
  partitions?: PartitionRange;
  inputs: InputObject[];
  /** Objects left out by the partition range. */
  skipped: number;
  archiveProgress: ArchiveProgress[];
  allowedLatenessMs: number;
  views: PlannedView[];
  rulesHash: string;
  schemaHash: string;
  /** Set for sharded runs: how many shards split the inputs. */
  shards?: number;
}

interface ViewLike {
  name: string;
  window: WindowSpec;
}

export function viewsOf(spec: PipelineSpec): ViewLike[] {
  return spec.views as unknown as ViewLike[];
}

export function planKey(runId: string): string {
  return `${runPrefix(runId)}plan.json`;
}

export async function makePlan(args: {
  runId: string;
  startedAt: number;
  spec: PipelineSpec;
  source: ObjectStore;
  partitions?: PartitionRange;
  allowedLatenessMs: number;
  shards?: number;
}): Promise<RunPlan> {
  const { inputs, skipped } = await listInputs(args.source, args.partitions ?? {});
  const archiveProgress = await readArchiveProgress(args.source);
  const limit = coverageLimit(args.startedAt, archiveProgress, args.allowedLatenessMs);
  return {
    runId: args.runId,
    version: versionOf(args.runId),
    startedAt: args.startedAt,
    source: args.source.url,
    ...(args.partitions && (args.partitions.from || args.partitions.to) ? { partitions: args.partitions } : {}),
    inputs,
    skipped,
    archiveProgress,
    allowedLatenessMs: args.allowedLatenessMs,
    views: viewsOf(args.spec).map((v) => ({
      name: v.name,
      alignmentMs: alignmentOf(v.window),
      coverageEnd: coverageEnd(limit, v.window),
      viewHash: definitionHash(v),
    })),
    rulesHash: definitionHash(args.spec.rules ?? null),
    schemaHash: definitionHash({ schema: args.spec.schema, parse: args.spec.parse }),
    ...(args.shards ? { shards: args.shards } : {}),
  };
}

/** Coverage end of each view, as the pipelines take it. */
export function coverageMap(plan: RunPlan): Map<string, number> {
  return new Map(plan.views.map((v) => [v.name, v.coverageEnd]));
}

/**
 * The plan of a sharded run: written by the first shard to start (exclusive
 * create), read by the others. A shard whose config hashes differ from the
 * plan's would split different work: it is refused.
 */
export async function sharedPlan(store: ObjectStore, fresh: () => Promise<RunPlan>): Promise<RunPlan> {
  const plan = await fresh();
  const key = planKey(plan.runId);
  if (await store.putIfAbsent(key, Buffer.from(JSON.stringify(plan) + '\n'), { contentType: 'application/json' })) return plan;
  const existing = await readPlan(store, plan.runId);
  if (!existing) throw new Error(`run ${plan.runId}: plan ${key} vanished while being read`);
  const mismatch = planMismatch(existing, plan);
  if (mismatch) throw new Error(`run ${plan.runId}: this shard's ${mismatch} differs from the run's plan (${key}); every shard must run with the same config`);
  return existing;
}

function planMismatch(a: RunPlan, b: RunPlan): string | undefined {
  if (a.rulesHash !== b.rulesHash) return 'rule set';
  if (a.schemaHash !== b.schemaHash) return 'schema';
  if (a.source !== b.source) return 'source';
  if (a.shards !== b.shards) return 'shard count';
  const va = a.views.map((v) => `${v.name}:${v.viewHash}`).join(',');
  const vb = b.views.map((v) => `${v.name}:${v.viewHash}`).join(',');
  return va === vb ? undefined : 'view definitions';
}

export async function readPlan(store: ObjectStore, runId: string): Promise<RunPlan | undefined> {
  try {
    return JSON.parse((await store.getBytes(planKey(runId))).toString('utf8')) as RunPlan;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
