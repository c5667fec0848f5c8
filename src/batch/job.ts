/**
 * What a batch run needs to know, resolved from the config: the compiled
 * pipeline spec, where to read and write, and how hard to work.
 */
import type { OpenStoreOptions } from '../storage/index.js';
import type { PipelineSpec } from './pipeline-port.js';

export interface BatchJob {
  /** The fused pipeline's spec (`toNativeSpecs(config)`), the same the speed layer runs. */
  spec: PipelineSpec;
  /** The master dataset (`s3://…/raw/`, `file://…`, or a path). */
  source: string;
  /** Where views/, runs/ and locks/ live. */
  viewStore: string;
  /** Where rejected records go. */
  errors: string;
  /** Objects processed at once, one pipeline each. */
  concurrency: number;
  /** Bytes per chunk handed to the pipeline. */
  chunkSize: number;
  /** A run lock not renewed for this long is abandoned and may be taken over. */
  lockTtlMs: number;
  /** The speed layer's allowed lateness: holds the coverage end back behind the archive's watermark. */
  allowedLatenessMs: number;
  /** S3 endpoint, region, credentials for every `s3://` location. */
  storeOptions: OpenStoreOptions;
  /** Attempts per object on read failures (default 3). */
  objectAttempts?: number;
}
