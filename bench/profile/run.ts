/**
 * `npm run profile [-- ndjson|csv]`: samples the fused pipeline with Linux
 * `perf` on one pinned core and prints where the time goes, by stage (the
 * crate a symbol belongs to), then the hottest symbols. The raw profile
 * stays in `bench/profile/perf.data` for `perf report` or a flame graph
 * (`perf script | stackcollapse-perf.pl | flamegraph.pl`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const format = process.argv[2] === 'csv' ? 'csv' : 'ndjson';
const dir = import.meta.dirname;
const data = join(dir, 'perf.data');

/** Stages by symbol: the crate names of the core, then the runtime around it. */
const STAGES: [string, RegExp][] = [
  ['parse (pulse_parse, simdutf8, fast_float, memchr)', /pulse_parse|simdutf8|fast_float|memchr/],
  ['window (pulse_window, hashing, sketches, libm)', /pulse_window|hashbrown|xxh|arrow_row|libm|^ceil$|^floor$/],
  ['rules (pulse_rules, regex)', /pulse_rules|regex/],
  ['Arrow builders and kernels (arrow_*)', /arrow_/],
  ['pipeline glue (pulse_core)', /pulse_core/],
  ['allocator (mimalloc, malloc/free)', /mi_|malloc|free|realloc|_mi_/],
  ['memory copies (memmove/memcpy/memset/memcmp)', /mem(move|cpy|set|cmp)/],
  ['kernel (page faults, syscalls)', /^\[k\]/],
];

const record = spawnSync(
  'perf',
  ['record', '-F', '1999', '-o', data, '--', 'taskset', '-c', '1', process.execPath, '--import', 'tsx', join(dir, 'fused-workload.ts'), format],
  { stdio: ['ignore', 'inherit', 'inherit'] },
);
if (record.error || record.status !== 0) {
  process.stderr.write(`perf record failed (${record.error?.message ?? `exit ${record.status}`}); install it with: apt-get install linux-perf\n`);
  process.exit(1);
}
const report = spawnSync('perf', ['report', '-i', data, '--no-children', '--sort', 'dso,symbol', '--stdio'], { encoding: 'utf8', maxBuffer: 64 << 20 });
const rows: { pct: number; dso: string; symbol: string }[] = [];
for (const line of report.stdout.split('\n')) {
  const m = /^\s+([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.+?)\s*$/.exec(line);
  if (m) rows.push({ pct: Number(m[1]), dso: m[2]!, symbol: m[3] === 'k' ? `[k] ${m[4]}` : m[4]! });
}
const stages = new Map<string, number>();
for (const r of rows) {
  const stage = r.dso.startsWith('pulse.') || r.dso.startsWith('libc') || r.dso.startsWith('[kernel')
    ? (STAGES.find(([, re]) => re.test(r.symbol))?.[0] ?? `other (${r.dso})`)
    : `Node.js and V8 (${r.dso})`;
  stages.set(stage, (stages.get(stage) ?? 0) + r.pct);
}
process.stdout.write(`\n${format}: share of samples by stage\n`);
for (const [stage, pct] of [...stages].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct.toFixed(1).padStart(6)} %  ${stage}\n`);
process.stdout.write('\nhottest symbols\n');
for (const r of rows.slice(0, 15)) process.stdout.write(`${r.pct.toFixed(1).padStart(6)} %  ${r.symbol.slice(0, 100)}\n`);
