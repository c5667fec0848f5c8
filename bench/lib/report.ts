/**
 * Writes one benchmark run as `bench/results/<date>-<sha>.json` and renders
 * `bench/RESULTS.md` from the newest run of every suite: absolute MB/s and
 * rows/s beside the ratio of the native core's throughput to each peer's
 * (above 1 = native faster), and the goals judged on those figures.
 */
import { execSync } from 'node:child_process';
import { cpus, totalmem, platform, arch } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './harness.js';
import { judgeGoals } from './goals.js';

function sh(cmd: string): string {
  try {
    return execSync(cmd, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

export interface RunInfo {
  date: string;
  sha: string;
  quick: boolean;
  /** The core every in-process subject ran on (absent: unpinned). */
  pinnedCore?: number;
  /** Node/V8 flags of the measuring process (e.g. `--single-threaded-gc`). */
  nodeFlags?: string[];
  machine: { cpu: string; cores: number; memGiB: number; platform: string; loadAvg?: number[] };
  versions: Record<string, string>;
}

interface RunFile extends RunInfo {
  results: Measurement[];
  file: string;
}

export function runInfo(quick: boolean, pinnedCore?: number): RunInfo {
  return {
    date: new Date().toISOString(),
    sha: sh('git rev-parse --short HEAD'),
    quick,
    ...(pinnedCore !== undefined ? { pinnedCore } : {}),
    nodeFlags: process.execArgv.filter((a) => a.startsWith('--') && !a.startsWith('--import') && !a.startsWith('--require')),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memGiB: Math.round(totalmem() / 2 ** 30),
      platform: `${platform()}-${arch()}`,
    },
    versions: { node: process.version, rustc: sh('rustc --version') },
  };
}

/** Native-to-peer ratio: how many times the baseline's throughput the row's is. */
export function ratio(m: Measurement, all: Measurement[]): number | undefined {
  const base = all.find((x) => x.suite === m.suite && x.case === m.case && x.subject === m.baseline);
  if (!base) return undefined;
  return m.medianMs / base.medianMs;
}

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? '' : n.toFixed(digits);
}

function describeRun(r: RunFile): string {
  return `\`${r.file}\`: ${r.date} at \`${r.sha}\`${r.quick ? ' (quick)' : ''}, ${r.pinnedCore !== undefined ? `pinned to core ${r.pinnedCore}` : 'unpinned'}${r.nodeFlags?.length ? `, node ${r.nodeFlags.join(' ')}` : ''}`;
}

export function renderMarkdown(runs: RunFile[]): string {
  // The newest run that measured each suite.
  const newest = new Map<string, RunFile>();
  for (const run of [...runs].sort((a, b) => a.date.localeCompare(b.date))) {
    for (const suite of new Set(run.results.map((r) => r.suite))) newest.set(suite, run);
  }
  const results = [...newest.values()].flatMap((run) => run.results);
  const any = [...newest.values()].at(-1);
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` from the newest run of each suite in `bench/results/`. ' +
      'Every subject of a case ran on the same bytes in the same run; in-process subjects (the native core and every peer) on one pinned core.',
    '',
  ];
  if (any) {
    lines.push(
      `Machine: ${any.machine.cpu}, ${any.machine.cores} cores, ${any.machine.memGiB} GiB, ${any.machine.platform}. ` +
        'Versions: ' + Object.entries(any.versions).map(([k, v]) => `${k} ${v}`).join(', ') + '.',
      '',
    );
  }
  lines.push('## Goals', '', '| goal | target | measured | met | case |', '|---|---|---|---|---|');
  for (const g of judgeGoals(results)) {
    lines.push(`| ${g.goal} | ${g.target} | ${g.measured ?? 'not measured'} | ${g.met === undefined ? '' : g.met ? 'yes' : '**no**'} | ${g.source ?? ''} |`);
  }
  lines.push(
    '',
    '`× native` is the subject\'s median time divided by the baseline\'s (first row of the case): how many times faster the baseline is ' +
      '(for a ceiling row, the share of the ceiling the baseline reaches). Medians of ≥ 5 runs; `±%` is benchmark.js\'s relative margin of error, or the relative standard deviation of the runs.',
    '',
  );
  for (const [suite, run] of newest) {
    lines.push(`## ${suite}`, '', `From ${describeRun(run)}.`, '', '| case | subject | median ms | MB/s | M rows/s | × native | ±% | note |', '|---|---|---:|---:|---:|---:|---:|---|');
    for (const r of run.results.filter((x) => x.suite === suite)) {
      const q = ratio(r, run.results);
      lines.push(
        `| ${r.case} | ${r.subject} | ${fmt(r.medianMs)} | ${fmt(r.mbPerSec)} | ${fmt(r.rowsPerSec && r.rowsPerSec / 1e6, 2)} | ${r.subject === r.baseline ? '1.00 (baseline)' : fmt(q, 2)} | ${fmt(r.rme)} | ${r.note ?? ''} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Every recorded run, oldest first; a file's suites each carry the run they came from. */
function readRuns(dir: string): RunFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const file = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunInfo & { results: Measurement[]; suites?: Record<string, RunInfo> };
      const bySuite = file.suites ?? {};
      const suites = [...new Set(file.results.map((r) => r.suite))];
      return suites.map((suite) => ({ ...file, ...(bySuite[suite] ?? {}), results: file.results.filter((r) => r.suite === suite), file: `bench/results/${f}` }));
    });
}

/**
 * Writes `results/<date>-<sha>.json`. Runs of other suites at the same
 * commit on the same day are kept: a suite re-run replaces only its own rows.
 */
export function writeResults(root: string, info: RunInfo, results: Measurement[]): { json: string; md: string } {
  const dir = join(root, 'results');
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${info.date.slice(0, 10)}-${info.sha}.json`);
  const ran = new Set(results.map((r) => r.suite));
  let kept: Measurement[] = [];
  let suites: Record<string, RunInfo> = {};
  if (existsSync(json)) {
    const old = JSON.parse(readFileSync(json, 'utf8')) as RunInfo & { results: Measurement[]; suites?: Record<string, RunInfo> };
    kept = old.results.filter((r) => !ran.has(r.suite));
    const { results: _r, suites: oldSuites, ...oldInfo } = old;
    suites = oldSuites ?? Object.fromEntries([...new Set(kept.map((r) => r.suite))].map((s) => [s, oldInfo]));
    for (const s of ran) delete suites[s];
  }
  for (const s of ran) suites[s] = info;
  writeFileSync(json, JSON.stringify({ ...info, suites, results: [...kept, ...results] }, null, 2) + '\n');
  const md = join(root, 'RESULTS.md');
  writeFileSync(md, renderMarkdown(readRuns(dir)));
  return { json, md };
}
