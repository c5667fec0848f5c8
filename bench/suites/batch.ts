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
import type { BenchContext, Measurement, Suite } from '../lib/harness.js';
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times the subjects in alternating rounds (A B C, A B C, …) rather than
 * all of A then all of B, so a shared machine's changing load weighs on
 * every subject alike; reports each subject's median.
 */
async function interleaved(
  ctx: BenchContext,
  caseName: string,
  input: { bytes: number; rows: number },
  subjects: { name: string; fn: () => Promise<unknown>; note: string }[],
): Promise<Measurement[]> {
  const rounds = ctx.quick ? 3 : 7;
  const times = subjects.map(() => [] as number[]);
  for (const s of subjects) await s.fn(); // warm-up: JIT, page cache, connections
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of subjects.entries()) {
      const t0 = performance.now();
      await s.fn();
      times[i]!.push(performance.now() - t0);
    }
  }
  return subjects.map((s, i) => {
    const ts = times[i]!;
    const medianMs = median(ts);
    const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
    const sd = Math.sqrt(ts.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ts.length - 1));
    const m: Measurement = {
      suite: 'batch',
      case: caseName,
      subject: s.name,
      baseline: subjects[0]!.name,
      medianMs,
      samples: ts.length,
      rme: (sd / mean) * 100,
      ...input,
      mbPerSec: input.bytes / 1e6 / (medianMs / 1000),
      rowsPerSec: input.rows / (medianMs / 1000),
      note: s.note,
    };
    process.stderr.write(`  ${caseName.padEnd(28)} ${s.name.padEnd(34)} ${medianMs.toFixed(1).padStart(9)} ms ${m.mbPerSec!.toFixed(1).padStart(8)} MB/s (n=${ts.length})\n`);
    return m;
  });
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
          p.close();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    const singleThread = () => {
      const p = Pipeline.create(job.spec);
      for (let o = 0; o < bytes.length; o += job.chunkSize) p.push(bytes.subarray(o, o + job.chunkSize));
      p.finish();
      p.close();
      return Promise.resolve();
    };
    const endToEnd = async () => {
      const result = await runBatch(job, { log });
      if (result.exitCode !== 0) throw new Error(`batch run failed: ${result.message}`);
    };
    return await interleaved(ctx, `${ctx.rows / 1e6}M rows, ${OBJECTS} objects`, { bytes: bytes.length, rows: ctx.rows }, [
      { name: `fused pipeline in memory ×${concurrency}`, fn: inMemory, note: `${concurrency} pipelines in parallel, 1 MiB chunks` },
      { name: 'batch run from S3Proxy', fn: endToEnd, note: `list + GET streams + pipeline + fold + publish + audit; concurrency ${concurrency}` },
      { name: 'fused pipeline in memory ×1', fn: singleThread, note: 'one pipeline, synchronous push' },
    ]);
  } finally {
    stopS3();
  }
}

const suite: Suite = { name: 'batch', run };
export default suite;
