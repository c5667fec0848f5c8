/** The batch job a validated config describes. */
import { availableParallelism } from 'node:os';
import type { Config } from '../config/index.js';
import { toNativeSpecs } from '../config/index.js';
import type { OpenStoreOptions } from '../storage/index.js';
import type { BatchJob } from './job.js';
import type { PipelineSpec } from './pipeline-port.js';

/** S3 connection settings for `openStore`, from the config's `s3` section (env already applied). */
export function storeOptionsFrom(config: Config): OpenStoreOptions {
  const s3 = config.s3;
  return {
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
  };
}

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
