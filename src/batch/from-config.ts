/** The batch job a validated config describes. */
import { availableParallelism } from 'node:os';
import type { Config } from '../config/index.js';
import { toNativeSpecs } from '../config/index.js';
import { storeOptionsFrom } from '../storage/index.js';
import type { BatchJob } from './job.js';
import type { PipelineSpec } from './pipeline-port.js';

/** The pipeline spec of the batch layer: no allowed lateness, since nothing is late when recomputing history. */
export function batchPipelineSpec(config: Config): PipelineSpec {
  const specs = toNativeSpecs(config);
  return { schema: specs.schema, parse: specs.batchParse, rules: specs.rules, views: specs.views } as PipelineSpec;
}

export function batchJobFromConfig(config: Config, overrides: { concurrency?: number; chunkSize?: number } = {}): BatchJob {
  return {
    spec: batchPipelineSpec(config),
    source: config.batch.source,
    viewStore: config.batch.viewStore,
    errors: config.batch.errors,
    concurrency: overrides.concurrency ?? config.batch.concurrency ?? availableParallelism(),
    chunkSize: overrides.chunkSize ?? config.batch.chunkSize,
    lockTtlMs: config.batch.lockTtl,
    allowedLatenessMs: config.speed?.allowedLateness ?? 0,
    storeOptions: storeOptionsFrom(config),
  };
}

export { storeOptionsFrom };
