/**
 * The slice of the fused native pipeline (`src/core/pipeline.ts`) the batch
 * layer uses, in one place.
 */
export { Pipeline } from '../core/pipeline.js';
export type { PipelineReject, PipelineSpec, PushReport } from '../core/pipeline.js';
