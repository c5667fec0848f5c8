/**
 * Test data for the batch layer: a small sensor config, seeded NDJSON
 * objects, and a plain TypeScript reference of what the views must hold.
 */
import { gzipSync } from 'node:zlib';
import type { Table } from 'apache-arrow';
import { validateConfig, type Config, type ConfigInput } from '../../src/config/index.js';

export const MINUTE = 60_000;
/** Event times start here: well before any run, so all of it is below the coverage end. */
export const BASE = Date.UTC(2026, 0, 1);

export interface Reading {
  ts: number;
  device: string;
  temp: number;
  status: string;
}

/** mulberry32, seeded. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` readings over ~`spanMinutes` from `start`, 12 devices, temperatures with decimals (float sums depend on order). */
export function readings(seed: number, n: number, start = BASE, spanMinutes = 30): Reading[] {
  const rnd = prng(seed);
  return Array.from({ length: n }, () => ({
    ts: start + Math.floor(rnd() * spanMinutes * MINUTE),
    device: `dev-${Math.floor(rnd() * 12)}`,
    temp: Math.round((10 + rnd() * 30) * 10) / 10,
    status: rnd() < 0.8 ? 'ok' : 'degraded',
  }));
}

export function ndjson(rows: readonly Reading[]): Buffer {
  return Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

export function gzipped(rows: readonly Reading[]): Buffer {
  return gzipSync(ndjson(rows));
}

/** The test config: one rule (temp range), three views (tumbling, hopping, session). */
export function testConfigInput(batch: Record<string, unknown>, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    schema: {
      fields: [
        { name: 'ts', type: 'timestamp', nullable: false },
        { name: 'device', type: 'string', nullable: false },
        { name: 'temp', type: 'float64' },
        { name: 'status', type: 'string' },
      ],
      eventTime: 'ts',
    },
    rules: {
      checks: [{ id: 'temp_range', field: 'temp', range: { min: -50, max: 150 } }],
    },
    views: [
      {
        name: 'temp_by_device_1m',
        window: { type: 'tumbling', size: '1m' },
        groupBy: ['device'],
        measures: [{ name: 'n', op: 'count' }, { name: 'total', op: 'sum', field: 'temp' }, { name: 'hi', op: 'max', field: 'temp' }],
      },
      { name: 'activity_5m', window: { type: 'hopping', size: '5m', slide: '1m' }, groupBy: [], measures: [{ name: 'n', op: 'count' }] },
      { name: 'device_sessions', window: { type: 'session', gap: '2m' }, groupBy: ['device'], measures: [{ name: 'n', op: 'count' }] },
    ],
    batch,
    ...extra,
  } as ConfigInput;
}

export function testConfig(batch: Record<string, unknown>, extra: Partial<ConfigInput> = {}): Config {
  return validateConfig(testConfigInput(batch, extra));
}

/** Valid readings (the rule passes) with event time before `end`: what the batch view must hold. */
export function covered(rows: readonly Reading[], end: number): Reading[] {
  return rows.filter((r) => r.ts < end && r.temp >= -50 && r.temp <= 150);
}

/** count and sum per (minute, device), keyed `start|device`. */
export function perMinuteDevice(rows: readonly Reading[]): Map<string, { n: number; total: number }> {
  const out = new Map<string, { n: number; total: number }>();
  for (const r of rows) {
    const key = `${Math.floor(r.ts / MINUTE) * MINUTE}|${r.device}`;
    const cell = out.get(key) ?? { n: 0, total: 0 };
    cell.n++;
    cell.total += r.temp;
    out.set(key, cell);
  }
  return out;
}

function ms(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  return Number(v);
}

/** The same shape from a queried view table. */
export function tableToCells(table: Table): Map<string, { n: number; total: number }> {
  const out = new Map<string, { n: number; total: number }>();
  for (const row of table) {
    const r = row.toJSON() as Record<string, unknown>;
    out.set(`${ms(r.window_start)}|${String(r.device)}`, { n: Number(r.n), total: Number(r.total) });
  }
  return out;
}

/** Asserts two per-cell maps agree: counts exactly, sums to 1e-9 relative. */
export function cellsMismatch(actual: Map<string, { n: number; total: number }>, expected: Map<string, { n: number; total: number }>): string | undefined {
  if (actual.size !== expected.size) return `${actual.size} cells, expected ${expected.size}`;
  for (const [k, e] of expected) {
    const a = actual.get(k);
    if (!a) return `missing cell ${k}`;
    if (a.n !== e.n) return `cell ${k}: n ${a.n}, expected ${e.n}`;
    if (Math.abs(a.total - e.total) > 1e-9 * Math.max(1, Math.abs(e.total))) return `cell ${k}: total ${a.total}, expected ${e.total}`;
  }
  return undefined;
}
