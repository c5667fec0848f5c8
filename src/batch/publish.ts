/**
 * Publishing a batch view version: every view's snapshot first, then each
 * manifest in one atomic put. A reader that follows a manifest always finds
 * a complete snapshot; a crash before the manifest leaves the previous
 * version published.
 */
import type { ObjectStore } from '../storage/index.js';
import type { PublishedView } from './audit.js';
import type { EventLog } from './events.js';
import { sha256Hex } from './hashes.js';
import type { InputObject } from './inputs.js';
import { manifestKey, snapshotKey, writeManifest, type BatchManifest } from './manifest.js';
import type { ObjectCounts, ObjectResult } from './object.js';
import type { Pipeline } from './pipeline-port.js';
import type { RunPlan } from './plan.js';

/**
 * Rows each view left beyond its coverage end. The pipeline counts one per
 * view per row; views sharing a coverage end skip the same rows, so the
 * count splits evenly among them.
 */
function beyondCoverage(plan: RunPlan, view: string, totals: ObjectCounts): number | null {
  const end = plan.views.find((v) => v.name === view)?.coverageEnd;
  if (plan.views.every((v) => v.coverageEnd === end)) return totals.outOfRange / plan.views.length;
  return null;
}

export async function publishViews(args: {
  plan: RunPlan;
  states: Pipeline;
  results: readonly ObjectResult[];
  totals: ObjectCounts;
  store: ObjectStore;
  events: EventLog;
  /** Called between the snapshots and the manifests: the last moment to refuse publishing. */
  beforeManifests: () => Promise<void>;
}): Promise<PublishedView[]> {
  const { plan, states, store } = args;
  const inputs: InputObject[] = [];
  const failedInputs: InputObject[] = [];
  for (const r of args.results) (r.status === 'done' ? inputs : failedInputs).push(r.input);
  const written: { view: string; snapshot: string; sha: string; bytes: number }[] = [];
  for (const view of plan.views) {
    const bytes = states.snapshot(view.name);
    const key = snapshotKey(view.name, plan.version);
    await store.put(key, bytes, { contentType: 'application/vnd.apache.arrow.stream' });
    written.push({ view: view.name, snapshot: key, sha: sha256Hex(bytes), bytes: bytes.length });
  }
  await args.beforeManifests();
  const published: PublishedView[] = [];
  const rejected = args.totals.parseRejects + args.totals.ruleRejects;
  for (const [i, view] of plan.views.entries()) {
    const w = written[i]!;
    const manifest: BatchManifest = {
      view: view.name,
      version: plan.version,
      runId: plan.runId,
      coverageEnd: view.coverageEnd,
      alignmentMs: view.alignmentMs,
      createdAt: new Date().toISOString(),
      snapshot: w.snapshot,
      snapshotSha256: w.sha,
      snapshotBytes: w.bytes,
      viewHash: view.viewHash,
      rulesHash: plan.rulesHash,
      schemaHash: plan.schemaHash,
      source: plan.source,
      ...(plan.partitions ? { partitions: plan.partitions } : {}),
      inputs,
      failedInputs,
      counts: {
        records: args.totals.records,
        applied: args.totals.applied,
        rejected,
        late: args.totals.late,
        beyondCoverage: beyondCoverage(plan, view.name, args.totals),
      },
    };
    await writeManifest(store, manifest);
    const p: PublishedView = {
      view: view.name,
      version: plan.version,
      coverageEnd: view.coverageEnd,
      snapshot: w.snapshot,
      snapshotSha256: w.sha,
      snapshotBytes: w.bytes,
      manifest: manifestKey(view.name),
    };
    published.push(p);
    args.events.emit('view.published', { ...p, coverageEndIso: new Date(view.coverageEnd).toISOString() });
  }
  return published;
}
