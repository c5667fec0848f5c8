/** The batch layer: nightly recomputation of every view from the master dataset. */
export { runBatch, type RunOptions, type RunResult } from './run.js';
export { runShard, mergeShards, parseShard, type Shard } from './shard.js';
export { runSchedule, type ScheduleOptions, type ScheduleSummary } from './schedule.js';
export type { BatchJob } from './job.js';
export type { BatchProgress } from './progress.js';
export type { AuditReport, RunStatus } from './audit.js';
export { EXIT_CODES } from './audit.js';
export { readManifest, listPublishedViews, listVersions, manifestKey, snapshotKey, type BatchManifest } from './manifest.js';
export { LOCK_KEY, RunLock, LockHeldError, type LockRecord } from './lock.js';
export { alignmentOf, alignDown, coverageEnd, coverageLimit } from './alignment.js';
export { auditKey, eventsKey } from './events.js';
export { newRunId, isRunId } from './ids.js';
export { partitionProblem } from './inputs.js';
