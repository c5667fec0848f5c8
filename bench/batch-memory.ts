/**
 * Peak memory of a batch run over ~2 GB of input (not a timed test):
 *
 *   npx tsx bench/batch-memory.ts [--gb 2] [--objects 16] [--concurrency N]
 *
 * Streams seeded NDJSON into a fresh bucket on the real S3 server (never
 * holding an object in memory: each is a multipart upload of a generated
 * stream), runs `pulse batch run` in a child process, and reports the
 * child's peak RSS (`process.resourceUsage().maxRSS`, recorded in the audit
 * report) against the 600 MB goal. Starts S3Proxy when it is not running.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { AuditReport } from '../src/batch/audit.js';
import { auditKey } from '../src/batch/events.js';
import { openStore } from '../src/storage/index.js';
import { readings } from './lib/data.js';
import { batchBenchConfig, batchBenchConfigInput, createBucket, ensureS3 } from './lib/s3.js';

const GOAL_BYTES = 600 * 1e6;
const ROOT = join(import.meta.dirname, '..');

const { values } = parseArgs({
  options: { gb: { type: 'string', default: '2' }, objects: { type: 'string', default: '16' }, concurrency: { type: 'string' } },
});
const totalBytes = Number(values.gb) * 1e9;
const objectCount = Number(values.objects);
const concurrency = Number(values.concurrency ?? cpus().length);

/** About `bytes` of NDJSON readings, in 1 MiB pieces; each object continues the event time of the previous one. */
function ndjsonStream(bytes: number, seed: number): Readable {
  const rows = readings(Number.MAX_SAFE_INTEGER, seed);
  let sent = 0;
  return Readable.from(
    (function* () {
      while (sent < bytes) {
        const lines: string[] = [];
        let size = 0;
        while (size < 1 << 20) {
          const r = rows.next().value!;
          r.ts += seed * 86_400_000;
          const line = JSON.stringify(r) + '\n';
          lines.push(line);
          size += line.length;
        }
        sent += size;
        yield Buffer.from(lines.join(''));
      }
    })(),
  );
}

function pulse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t.slice(-100_000)));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const stopS3 = await ensureS3();
const dir = mkdtempSync(join(tmpdir(), 'pulse-batch-memory-'));
try {
  const bucket = await createBucket('bench-batch-memory');
  const batch = { source: `s3://${bucket}/raw/`, viewStore: `s3://${bucket}/store/`, concurrency, chunkSize: '1MiB' };
  const config = batchBenchConfig(batch);
  const configFile = join(dir, 'pulse.config.yaml');
  writeFileSync(configFile, stringify(batchBenchConfigInput(batch)));
  const raw = openStore(config.batch.source);
  const t0 = performance.now();
  for (let i = 0; i < objectCount; i++) {
    await raw.put(`date=2026-01-${String(1 + (i % 28)).padStart(2, '0')}/part-${String(i).padStart(3, '0')}.ndjson`, ndjsonStream(totalBytes / objectCount, i));
    process.stderr.write(`\r  uploaded ${i + 1}/${objectCount} objects`);
  }
  let uploaded = 0;
  for await (const info of raw.list('')) uploaded += info.size;
  process.stderr.write(`\n  ${(uploaded / 1e9).toFixed(2)} GB uploaded in ${((performance.now() - t0) / 1000).toFixed(0)} s; running the batch (concurrency ${concurrency})\n`);

  const t1 = performance.now();
  const result = await pulse(['--config', configFile, 'batch', 'run', '--no-progress']);
  const seconds = (performance.now() - t1) / 1000;
  const runId = /batch run (\S+):/.exec(result.stdout)?.[1];
  if (result.code !== 0 || !runId) throw new Error(`batch run exited ${result.code}:\n${result.stderr}\n${result.stdout.slice(-2000)}`);
  const audit = JSON.parse((await openStore(config.batch.viewStore).getBytes(auditKey(runId))).toString()) as AuditReport;
  const report = {
    inputBytes: uploaded,
    objects: audit.totals.objects,
    records: audit.totals.records,
    seconds: Number(seconds.toFixed(1)),
    mbPerSec: Number((uploaded / 1e6 / seconds).toFixed(1)),
    concurrency,
    chunkSize: audit.chunkSize,
    maxRssBytes: audit.maxRssBytes,
    maxRssMB: Number((audit.maxRssBytes / 1e6).toFixed(1)),
    goalMB: GOAL_BYTES / 1e6,
    withinGoal: audit.maxRssBytes < GOAL_BYTES,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  await openStore(`s3://${bucket}`).deletePrefix('');
} finally {
  rmSync(dir, { recursive: true, force: true });
  stopS3();
}
