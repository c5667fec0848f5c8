/**
 * The project's performance goals (issue "Benchmarks against peers"), each
 * judged on the measurements of one run. A goal whose case did not run is
 * reported as not measured rather than guessed.
 */
import type { Measurement } from './harness.js';

export interface GoalResult {
  goal: string;
  target: string;
  measured?: string;
  met?: boolean;
  source?: string;
}

type Find = (suite: string, caseName: RegExp, subject: RegExp) => Measurement | undefined;

interface Goal {
  goal: string;
  target: string;
  /** The measured value and whether it meets the target; undefined when not measured. */
  judge(find: Find): { value: number; text: string; met: boolean; source: string } | undefined;
}

/** How many times faster `base` is than `peer` on the same case. */
function speedup(find: Find, suite: string, caseName: RegExp, base: RegExp, peer: RegExp, min: number) {
  const b = find(suite, caseName, base);
  const p = find(suite, caseName, peer);
  if (!b || !p) return undefined;
  const value = p.medianMs / b.medianMs;
  return { value, text: `${value.toFixed(2)}×`, met: value >= min, source: b.case };
}

/** The share of a metric recorded on one measurement. */
function share(find: Find, suite: string, caseName: RegExp, subject: RegExp, metric: string, max: number) {
  const m = find(suite, caseName, subject);
  const value = m?.metrics?.[metric];
  if (!m || value === undefined) return undefined;
  return { value, text: `${(value * 100).toFixed(1)} %`, met: value <= max, source: m.case };
}

const FUSED_ND = /^ndjson parse→rules→window/;
const FUSED_CSV = /^csv parse→rules→window/;
const NATIVE = /^native fused pipeline$/;

export const GOALS: Goal[] = [
  { goal: 'fused NDJSON vs DuckDB threads=1', target: '≥ 2×', judge: (f) => speedup(f, 'fused', FUSED_ND, NATIVE, /^DuckDB/, 2) },
  { goal: 'fused NDJSON vs JSON.parse + JS loop', target: '≥ 10×', judge: (f) => speedup(f, 'fused', FUSED_ND, NATIVE, /JS loop/, 10) },
  { goal: 'fused CSV vs DuckDB threads=1', target: '≥ 1.5×', judge: (f) => speedup(f, 'fused', FUSED_CSV, NATIVE, /^DuckDB/, 1.5) },
  { goal: 'fused CSV vs nodejs-polars 1 thread', target: '≥ 1.0×', judge: (f) => speedup(f, 'fused', FUSED_CSV, NATIVE, /polars/, 1) },
  {
    goal: 'NDJSON parse vs arrow-json Decoder (Rust, same schema)',
    target: '≥ 1.0×',
    judge: (f) => speedup(f, 'parse', /Rust only/, /^pulse-parse NDJSON/, /arrow-json/, 1),
  },
  { goal: 'validation (null/range/enum) cost vs parse only', target: '≤ 15 %', judge: (f) => share(f, 'parse', /^validation cost/, /null\/range\/enum/, 'costShare', 0.15) },
  {
    goal: 'napi crossing + tableFromIPC vs Rust compute, 64k-row batches',
    target: '≤ 5 %',
    judge: (f) => share(f, 'parse', /^napi boundary/, /JS observed/, 'boundaryShare', 0.05),
  },
  {
    goal: 'fused NDJSON share of sequential-read bandwidth (O_DIRECT, one thread)',
    target: '≥ 10 %',
    judge: (f) => {
      const s = speedup(f, 'fused', FUSED_ND, NATIVE, /O_DIRECT/, 0);
      return s && { ...s, text: `${(s.value * 100).toFixed(1)} %`, met: s.value >= 0.1 };
    },
  },
  {
    goal: 'fused CSV share of sequential-read bandwidth (O_DIRECT, one thread)',
    target: '≥ 15 %',
    judge: (f) => {
      const s = speedup(f, 'fused', FUSED_CSV, NATIVE, /O_DIRECT/, 0);
      return s && { ...s, text: `${(s.value * 100).toFixed(1)} %`, met: s.value >= 0.15 };
    },
  },
  {
    goal: 'speed layer vs no-op kafkajs consumer',
    target: '≥ 0.8×',
    judge: (f) => {
      const s = speedup(f, 'speed', /^consume/, /^speed layer$/, /no-op/, 0);
      return s && { ...s, met: s.value >= 0.8 };
    },
  },
  {
    goal: 'serving vs bare Fastify route (req/s)',
    target: '≥ 0.7×',
    judge: (f) => speedup(f, 'serving', /\(JSON\)$/, /^pulse, repeated query$/, /^bare Fastify, same bytes$/, 0.7),
  },
  {
    goal: 'serving p99 / p50 at 50 % load',
    target: '≤ 3',
    judge: (f) => {
      const m = f('serving', /^at 50% load/, /^pulse, repeated query$/);
      const p50 = m?.metrics?.p50Ms;
      const p99 = m?.metrics?.p99Ms;
      if (!m || !p50 || p99 === undefined) return undefined;
      return { value: p99 / p50, text: `${(p99 / p50).toFixed(2)} (p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms)`, met: p99 / p50 <= 3, source: m.case };
    },
  },
];

/** Judges every goal; with several cases matching (1M and 10M), each is listed. */
export function judgeGoals(results: Measurement[]): GoalResult[] {
  const cases = [...new Set(results.map((r) => r.case))];
  const out: GoalResult[] = [];
  for (const g of GOALS) {
    let any = false;
    for (const c of cases) {
      const find: Find = (suite, caseName, subject) =>
        caseName.test(c) ? results.find((r) => r.suite === suite && r.case === c && subject.test(r.subject)) : undefined;
      const j = g.judge(find);
      if (!j) continue;
      any = true;
      out.push({ goal: g.goal, target: g.target, measured: j.text, met: j.met, source: j.source });
    }
    if (!any) out.push({ goal: g.goal, target: g.target });
  }
  return out;
}
