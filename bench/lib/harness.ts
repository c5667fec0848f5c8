/**
 * The benchmark harness: every suite measures its subjects side by side in
 * one run with benchmark.js, and the report states each peer's throughput as
 * a ratio to the native core.
 */
import Benchmark from 'benchmark';

export interface BenchContext {
  /** `--quick`: smaller inputs and fewer samples, for a run under 3 minutes. */
  quick: boolean;
  /** Row count for "1M-row" cases (reduced under --quick). */
  rows: number;
  /** Row count of the large fused case (10M; none under --quick). */
  largeRows?: number;
  /** The core every in-process subject runs on, when the run is pinned. */
  pinnedCore?: number;
}


/** One subject's throughput on one case. */
export interface Measurement {
  suite: string;
  case: string;
  subject: string;
  /** The subject the ratio column compares against (usually the native core). */
  baseline: string;
  medianMs: number;
  samples: number;
  rme: number;
  bytes?: number;
  rows?: number;
  mbPerSec?: number;
  rowsPerSec?: number;
  note?: string;
  /** Figures beside the time a goal is judged on (latency percentiles, shares). */
  metrics?: Record<string, number>;
}

export interface Suite {
  name: string;
  run(ctx: BenchContext): Promise<Measurement[]>;
}

export interface Subject {
  name: string;
  fn: () => unknown;
  /** Shown beside the result. */
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One turn of the event loop. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Measures each subject on the same input with benchmark.js (at least 5
 * samples), returning median time per operation and derived MB/s and rows/s.
 *
 * Each run ends with a turn of the event loop, inside the timing, as any
 * Node program's work does: Node 20 runs napi finalizers (which free the
 * memory behind native results: PulseStream's Arrow buffers, nodejs-polars'
 * frames) from the event loop, so a loop that never yields keeps every
 * run's native memory, and each run pays page faults on fresh memory.
 */
export async function measure(
  ctx: BenchContext,
  suite: string,
  caseName: string,
  input: { bytes?: number; rows?: number },
  subjects: Subject[],
): Promise<Measurement[]> {
  const baseline = subjects[0]!.name;
  const out: Measurement[] = [];
  for (const s of subjects) {
    const bench = new Benchmark(
      `${suite}/${caseName}/${s.name}`,
      (deferred: Benchmark.Deferred) => {
        s.fn();
        void turn().then(() => deferred.resolve());
      },
      { defer: true, minSamples: 5, maxTime: ctx.quick ? 0.5 : 6, initCount: 1 },
    );
    await new Promise<void>((resolve) => {
      bench.on('complete', () => resolve());
      bench.run({ async: true });
    });
    if (bench.error) throw bench.error;
    // benchmark.js's own margin of error replaces the runs' deviation.
    out.push({ ...summarise(suite, caseName, s.name, baseline, bench.stats.sample.map((x) => x * 1000), input, s.note), rme: bench.stats.rme });
  }
  return out;
}

/** Times an async operation `runs` times (for end-to-end cases benchmark.js cannot drive). */
export async function measureAsync(
  _ctx: BenchContext,
  suite: string,
  caseName: string,
  input: { bytes?: number; rows?: number },
  subjects: { name: string; fn: () => Promise<unknown>; note?: string }[],
  runs = 5,
): Promise<Measurement[]> {
  const baseline = subjects[0]!.name;
  const out: Measurement[] = [];
  for (const s of subjects) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await s.fn();
      times.push(performance.now() - t0);
    }
    out.push(summarise(suite, caseName, s.name, baseline, times, input, s.note));
  }
  return out;
}

/**
 * Times a synchronous subject on a large input: `runs` timed runs, without
 * the calibration cycles benchmark.js adds (tens of seconds each at 10M
 * rows, where one run is long enough to leave warm-up out of the median).
 */
export async function measureRuns(
  suite: string,
  caseName: string,
  input: { bytes?: number; rows?: number },
  subjects: Subject[],
  runs = 5,
): Promise<Measurement[]> {
  const baseline = subjects[0]!.name;
  const out: Measurement[] = [];
  for (const s of subjects) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      collectGarbage();
      await turn();
      const t0 = performance.now();
      s.fn();
      await turn();
      times.push(performance.now() - t0);
    }
    out.push(summarise(suite, caseName, s.name, baseline, times, input, s.note));
  }
  return out;
}

/**
 * A full garbage collection between runs of a large case, outside the
 * timing (`bench/run.ts` starts node with `--expose-gc`): at 10M rows one
 * run's leftovers (a 560 MB result table, a JS peer's 10 GB of maps) would
 * otherwise still be held when the next run starts, and the machine runs
 * out of memory.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** A measurement from raw per-run times (ms). */
export function summarise(
  suite: string,
  caseName: string,
  subject: string,
  baseline: string,
  times: number[],
  input: { bytes?: number; rows?: number },
  note?: string,
): Measurement {
  const medianMs = median(times);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const sd = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, times.length - 1));
  const m: Measurement = { suite, case: caseName, subject, baseline, medianMs, samples: times.length, rme: (sd / mean) * 100, ...input };
  if (input.bytes) m.mbPerSec = input.bytes / 1e6 / (medianMs / 1000);
  if (input.rows) m.rowsPerSec = input.rows / (medianMs / 1000);
  if (note) m.note = note;
  process.stderr.write(
    `  ${caseName.padEnd(28)} ${subject.padEnd(26)} ${medianMs.toFixed(1).padStart(9)} ms` +
      (m.mbPerSec ? ` ${m.mbPerSec.toFixed(1).padStart(8)} MB/s` : '') +
      (m.rowsPerSec ? ` ${(m.rowsPerSec / 1e6).toFixed(2).padStart(7)} M rows/s` : '') +
      ` (n=${times.length})\n`,
  );
  return m;
}
