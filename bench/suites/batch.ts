/**
 * Batch layer throughput: a whole `pulse batch run` (list, stream from the
 * real S3 server, parse, rules, windows, fold, publish) against the fused
 * pipeline on the same bytes already in memory. Goal: ≥ 70% of the
 * in-memory rate.
 */
import { cpus } from 'node:os';
import { createLogger } from '../../src/observability/logger.js';
import { batchJobFromConfig } from '../../src/batch/from-config.js';
import { runBatch } from '../../src/batch/run.js';
import { Pipeline } from '../../src/core/pipeline.js';
import { openStore } from '../../src/storage/index.js';
import { dataset } from '../lib/data.js';
import { measureAsync, type BenchContext, type Measurement, type Suite } from '../lib/harness.js';
import { batchBenchConfig, createBucket, ensureS3 } from '../lib/s3.js';

const OBJECTS = 16;

/** Splits NDJSON bytes into `n` objects at line ends. */
function splitLines(bytes: Buffer, n: number): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 1; i <= n; i++) {
    let end = i === n ? bytes.length : Math.floor((bytes.length * i) / n);
    if (i < n) end = bytes.indexOf(10, end) + 1 || bytes.length;
    parts.push(bytes.subarray(start, end));
    start = end;
  }
  return parts.filter((p) => p.length > 0);
}

async function run(ctx: BenchContext): Promise<Measurement[]> {
  const stopS3 = await ensureS3();
  try {
    const bytes = dataset('ndjson', ctx.rows);
    const objects = splitLines(bytes, OBJECTS);
    const bucket = await createBucket('bench-batch');
    const concurrency = cpus().length;
    const config = batchBenchConfig({ source: `s3://${bucket}/raw/`, viewStore: `s3://${bucket}/store/`, concurrency, chunkSize: '1MiB' });
    const job = batchJobFromConfig(config);
    const raw = openStore(job.source, job.storeOptions);
    for (const [i, part] of objects.entries()) await raw.put(`date=2026-01-01/part-${String(i).padStart(3, '0')}.ndjson`, part);
    const log = createLogger({ level: 'silent' });

    /** The same objects, the same chunking and concurrency, no I/O: the pipeline's own rate. */
    const inMemory = async () => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < objects.length; i = next++) {
          const p = Pipeline.create(job.spec);
          const part = objects[i]!;
          for (let o = 0; o < part.length; o += job.chunkSize) await p.pushAsync(part.subarray(o, o + job.chunkSize));
          await p.finishAsync();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    const singleThread = () => {
      const p = Pipeline.create(job.spec);
      for (let o = 0; o < bytes.length; o += job.chunkSize) p.push(bytes.subarray(o, o + job.chunkSize));
      p.finish();
      return Promise.resolve();
    };
    const endToEnd = async () => {
      const result = await runBatch(job, { log });
      if (result.exitCode !== 0) throw new Error(`batch run failed: ${result.message}`);
    };
    return await measureAsync(ctx, 'batch', `${ctx.rows / 1e6}M rows, ${OBJECTS} objects`, { bytes: bytes.length, rows: ctx.rows }, [
      { name: `fused pipeline in memory ×${concurrency}`, fn: inMemory, note: `${concurrency} pipelines in parallel, 1 MiB chunks` },
      { name: 'batch run from S3Proxy', fn: endToEnd, note: 'list + GET streams + pipeline + fold + publish + audit' },
      { name: 'fused pipeline in memory ×1', fn: singleThread, note: 'one pipeline, synchronous push' },
    ]);
  } finally {
    stopS3();
  }
}

const suite: Suite = { name: 'batch', run };
export default suite;
