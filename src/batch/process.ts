/**
 * Runs the selected input objects through `concurrency` workers, each
 * taking the next object as it frees up, and folds their states in input
 * order into one pipeline.
 */
import { MIN_EVENT_TIME } from './alignment.js';
import { OrderedFold } from './fold.js';
import type { InputObject } from './inputs.js';
import { createPipeline, processObject, type ObjectJob, type ObjectResult } from './object.js';
import type { Pipeline } from './pipeline-port.js';

export interface ProcessOutcome {
  /** Every view's states over the objects that were read. */
  states: Pipeline;
  /** One result per object, in input order. */
  results: ObjectResult[];
}

export async function processInputs(
  job: ObjectJob,
  inputs: readonly InputObject[],
  concurrency: number,
  onResult: (result: ObjectResult) => void = () => {},
): Promise<ProcessOutcome> {
  const states = createPipeline(job.spec, job.coverage, MIN_EVENT_TIME);
  const fold = new OrderedFold(states, Math.max(2, 2 * concurrency));
  const results: ObjectResult[] = new Array<ObjectResult>(inputs.length);
  const stop = new AbortController();
  const signal = job.signal ? AbortSignal.any([job.signal, stop.signal]) : stop.signal;
  let cursor = 0;
  let failure: unknown;
  signal.addEventListener('abort', () => fold.cancel(), { once: true });

  const worker = async () => {
    for (;;) {
      const position = cursor++;
      if (position >= inputs.length || signal.aborted) return;
      await fold.room(position);
      if (signal.aborted) return;
      const result = await processObject({ ...job, signal }, inputs[position]!, MIN_EVENT_TIME);
      fold.add(position, result.pipeline);
      delete result.pipeline;
      results[position] = result;
      onResult(result);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, inputs.length)) }, () =>
    worker().catch((err: unknown) => {
      failure ??= err;
      stop.abort(err);
    }),
  );
  await Promise.all(workers);
  if (failure !== undefined) throw failure;
  job.signal?.throwIfAborted();
  return { states, results };
}
