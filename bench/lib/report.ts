/**
 * Writes one benchmark run as `bench/results/<date>-<sha>.json` and renders
 * `bench/RESULTS.md`: absolute MB/s and rows/s beside the ratio of the
 * native core's throughput to each peer's (above 1 = native faster).
 */
import { execSync } from 'node:child_process';
import { cpus, totalmem, platform, arch } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Measurement } from './harness.js';

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
  machine: { cpu: string; cores: number; memGiB: number; platform: string };
  versions: Record<string, string>;
}

export function runInfo(quick: boolean, extraVersions: Record<string, string> = {}): RunInfo {
  return {
    date: new Date().toISOString(),
    sha: sh('git rev-parse --short HEAD'),
    quick,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memGiB: Math.round(totalmem() / 2 ** 30),
      platform: `${platform()}-${arch()}`,
    },
    versions: { node: process.version, rustc: sh('rustc --version'), ...extraVersions },
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

export function renderMarkdown(info: RunInfo, results: Measurement[]): string {
  const lines = [
    '# Benchmark results',
    '',
    `Run ${info.date} at \`${info.sha}\`${info.quick ? ' (quick)' : ''} on ${info.machine.cpu}, ` +
      `${info.machine.cores} cores, ${info.machine.memGiB} GiB, ${info.machine.platform}.`,
    '',
    'Versions: ' + Object.entries(info.versions).map(([k, v]) => `${k} ${v}`).join(', ') + '.',
    '',
    'Median of ≥ 5 samples per subject; every subject of a case ran on the same bytes in the same run. ',
    '`× native` is the subject\'s time divided by the baseline\'s (first row of the case): how many times faster the baseline is.',
    '',
  ];
  const suites = [...new Set(results.map((r) => r.suite))];
  for (const suite of suites) {
    lines.push(`## ${suite}`, '', '| case | subject | median ms | MB/s | M rows/s | × native | ±% | note |', '|---|---|---:|---:|---:|---:|---:|---|');
    for (const r of results.filter((x) => x.suite === suite)) {
      const q = ratio(r, results);
      lines.push(
        `| ${r.case} | ${r.subject} | ${fmt(r.medianMs)} | ${fmt(r.mbPerSec)} | ${fmt(r.rowsPerSec && r.rowsPerSec / 1e6, 2)} | ${r.subject === r.baseline ? '1.00 (baseline)' : fmt(q, 2)} | ${fmt(r.rme)} | ${r.note ?? ''} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function writeResults(root: string, info: RunInfo, results: Measurement[]): { json: string; md: string } {
  const dir = join(root, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = info.date.slice(0, 10);
  const json = join(dir, `${stamp}-${info.sha}.json`);
  writeFileSync(json, JSON.stringify({ ...info, results }, null, 2) + '\n');
  const md = join(root, 'RESULTS.md');
  writeFileSync(md, renderMarkdown(info, results));
  return { json, md };
}
