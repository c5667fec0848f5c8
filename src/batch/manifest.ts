/**
 * Batch view manifests (`views/<view>/batch/manifest.json`): the only thing
 * a reader follows. Written last, in one atomic put, after the snapshot it
 * names is complete, so a reader sees the old version or the new one.
 */
import { NotFoundError, type ObjectStore } from '../storage/index.js';

export interface ManifestInput {
  key: string;
  etag: string;
  size: number;
}

export interface ViewCounts {
  /** Records read from the inputs (parsed rows and parse rejects). */
  records: number;
  /** Rows that passed parsing and the error-severity rules. */
  applied: number;
  /** Parse and rule rejects (written to the errors location). */
  rejected: number;
  /** Late rejects (zero for batch runs: nothing is late when recomputing history). */
  late: number;
  /**
   * Rows at or after this view's coverage end: left to the realtime view,
   * absorbed by the next run. Null when the views of the run have different
   * coverage ends (the pipeline counts them for all views together).
   */
  beyondCoverage: number | null;
}

export interface BatchManifest {
  view: string;
  version: string;
  runId: string;
  /** Every event with event time < coverageEnd in the master dataset at run start is in the snapshot; none ≥ it. */
  coverageEnd: number;
  alignmentMs: number;
  createdAt: string;
  snapshot: string;
  /** sha256 and size of the snapshot bytes, so a reader can check what it loaded. */
  snapshotSha256: string;
  snapshotBytes: number;
  viewHash: string;
  rulesHash: string;
  schemaHash: string;
  /** The master dataset the inputs were listed from. */
  source: string;
  /** Partition filter of the run, when it had one (`--from/--to`): coverage holds only inside it. */
  partitions?: { from?: string; to?: string };
  inputs: ManifestInput[];
  /** Inputs that could not be read: their events are missing from this version. */
  failedInputs: ManifestInput[];
  counts: ViewCounts;
}

export function viewBatchPrefix(view: string): string {
  return `views/${view}/batch/`;
}

export function manifestKey(view: string): string {
  return `${viewBatchPrefix(view)}manifest.json`;
}

export function snapshotKey(view: string, version: string): string {
  return `${viewBatchPrefix(view)}${version}/state.arrow`;
}

export async function readManifest(store: ObjectStore, view: string): Promise<BatchManifest | undefined> {
  try {
    return JSON.parse((await store.getBytes(manifestKey(view))).toString('utf8')) as BatchManifest;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

export async function writeManifest(store: ObjectStore, manifest: BatchManifest): Promise<void> {
  await store.put(manifestKey(manifest.view), Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), { contentType: 'application/json' });
}

/** Names of the views that have a published batch manifest. */
export async function listPublishedViews(store: ObjectStore): Promise<string[]> {
  const views: string[] = [];
  for await (const info of store.list('views/')) {
    const m = /^views\/([^/]+)\/batch\/manifest\.json$/.exec(info.key);
    if (m) views.push(m[1]!);
  }
  return views;
}

/** Versions with a snapshot under a view, oldest first (versions sort by time). */
export async function listVersions(store: ObjectStore, view: string): Promise<string[]> {
  const prefix = viewBatchPrefix(view);
  const versions: string[] = [];
  for await (const info of store.list(prefix)) {
    const m = /^([^/]+)\/state\.arrow$/.exec(info.key.slice(prefix.length));
    if (m) versions.push(m[1]!);
  }
  return versions.sort();
}

/**
 * Retention: deletes the snapshots of versions older than `current`, keeping
 * the newest `keep` versions in all (the current one included). Only the
 * manifest points at a snapshot, so once it names `current` the older ones
 * are unreferenced; a serving process that already loaded one keeps it in
 * memory. Returns the versions deleted.
 */
export async function pruneVersions(store: ObjectStore, view: string, current: string, keep: number): Promise<string[]> {
  if (!(keep >= 1)) throw new RangeError(`keep must be at least 1, got ${keep}`);
  const older = (await listVersions(store, view)).filter((v) => v < current);
  const doomed = older.slice(0, Math.max(0, older.length - (keep - 1)));
  for (const version of doomed) await store.deletePrefix(`${viewBatchPrefix(view)}${version}/`);
  return doomed;
}
