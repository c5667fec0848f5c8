/**
 * `npm run bench [-- --quick] [-- --only parse,rules]`: runs every suite in
 * `bench/suites/`, side by side with its peers, and writes the results.
 *
 * The run pins itself to one core (the last) with `taskset`, so every
 * in-process subject — the native core and each peer — gets the same single
 * core; servers the suites start (Kafka, S3Proxy, the serving processes)
 * are placed explicitly.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchContext, Measurement, Suite } from './lib/harness.js';
import { runInfo, writeResults } from './lib/report.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1]! : args[args.indexOf(onlyArg) + 1]!).split(',') : undefined;

/**
 * V8 collects garbage with helper threads (concurrent marking and
 * sweeping). Pinned to one core they do not run beside the measured thread
 * but preempt it, and the switches cost more than the work: the subjects
 * ran 2–4 % slower and the napi boundary case saw 20 ms more per run. One
 * pinned thread means all of the process's garbage collection on that
 * thread, for every JavaScript subject alike. `PULSE_BENCH_CONCURRENT_GC=1`
 * keeps V8's default.
 */
function gcFlags(): string[] {
  return process.env.PULSE_BENCH_CONCURRENT_GC === '1' ? [] : ['--single-threaded-gc'];
}

/** Re-runs this script under `taskset -c <core>`; returns false where taskset is missing. */
function rerunPinned(core: number): boolean {
  const probe = spawnSync('taskset', ['-c', String(core), 'true'], { stdio: 'ignore' });
  if (probe.status !== 0) return false;
  // The plain-JS peers hold millions of groups at 10M rows: a 16 GB heap;
  // `gc()` between runs of large cases (bench/lib/harness.ts).
  const child = spawnSync('taskset', ['-c', String(core), process.execPath, '--max-old-space-size=16384', '--expose-gc', ...gcFlags(), ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    // Servers the suites start (Kafka, S3Proxy) go to the other cores.
    env: { ...process.env, PULSE_BENCH_PINNED: String(core), PULSE_SERVICES_CPUS: `0-${core - 1}` },
  });
  process.exit(child.status ?? 1);
}

if (process.env.PULSE_BENCH_PINNED === undefined && cpus().length > 1 && !rerunPinned(cpus().length - 1)) {
  process.stderr.write('taskset is not available: running unpinned\n');
}

const pinned = process.env.PULSE_BENCH_PINNED;
const ctx: BenchContext = {
  quick,
  rows: quick ? 100_000 : 1_000_000,
  // PULSE_BENCH_LARGE_ROWS resizes the large fused case (0 leaves it out).
  ...(quick ? {} : { largeRows: Number(process.env.PULSE_BENCH_LARGE_ROWS ?? 10_000_000) || undefined }),
  ...(pinned !== undefined ? { pinnedCore: Number(pinned) } : {}),
};
const dir = join(import.meta.dirname, 'suites');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
const results: Measurement[] = [];
const started = Date.now();
for (const f of files) {
  const suite = (await import(pathToFileURL(join(dir, f)).href)).default as Suite;
  if (only && !only.includes(suite.name)) continue;
  const t0 = Date.now();
  process.stderr.write(`\n# ${suite.name}\n`);
  results.push(...(await suite.run(ctx)));
  process.stderr.write(`# ${suite.name}: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}
const { json, md } = writeResults(import.meta.dirname, runInfo(quick, ctx.pinnedCore), results);
process.stderr.write(`\nwrote ${json}\nwrote ${md} (${((Date.now() - started) / 60_000).toFixed(1)} min)\n`);
