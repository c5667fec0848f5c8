/**
 * Deterministic benchmark data: seeded sensor readings as NDJSON and CSV.
 * The same seed and row count always give the same bytes, so every run and
 * every peer measures identical input.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Schema of the generated data, in the native contract's JSON shape. */
export const benchSchema = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false },
    { name: 'device', type: 'string', nullable: false },
    { name: 'site', type: 'string', nullable: false },
    { name: 'temperature', type: 'float64', nullable: true },
    { name: 'humidity', type: 'float64', nullable: true },
    { name: 'battery', type: 'int64', nullable: true },
    { name: 'status', type: 'string', nullable: false },
    { name: 'user', type: 'string', nullable: true },
  ],
  eventTime: 'ts',
} as const;

export const STATUSES = ['ok', 'degraded', 'offline', 'maintenance'] as const;
export const START_MS = Date.UTC(2026, 0, 1);

/** mulberry32: a tiny, fast, well-distributed seeded PRNG. */
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

export interface Reading {
  ts: number;
  device: string;
  site: string;
  temperature: number | null;
  humidity: number | null;
  battery: number | null;
  status: string;
  user: string | null;
}

/** Yields `rows` readings: 1k devices, 20 sites, ~10 events/s of event time. */
export function* readings(rows: number, seed = 42, keys = 1000): Generator<Reading> {
  const rnd = prng(seed);
  let ts = START_MS;
  for (let i = 0; i < rows; i++) {
    ts += Math.floor(rnd() * 200);
    const d = Math.floor(rnd() * keys);
    yield {
      ts,
      device: `dev-${d}`,
      site: `site-${d % 20}`,
      temperature: rnd() < 0.01 ? null : Math.round((15 + rnd() * 30) * 100) / 100,
      humidity: rnd() < 0.01 ? null : Math.round(rnd() * 10000) / 100,
      battery: rnd() < 0.01 ? null : Math.floor(rnd() * 101),
      status: STATUSES[Math.floor(rnd() * rnd() * STATUSES.length)]!,
      user: rnd() < 0.05 ? null : `u${Math.floor(rnd() * 50_000)}`,
    };
  }
}

function toNdjson(r: Reading): string {
  return JSON.stringify(r);
}

function csvCell(v: string | number | null): string {
  return v === null ? '' : String(v);
}

function toCsv(r: Reading): string {
  return [r.ts, r.device, r.site, r.temperature, r.humidity, r.battery, r.status, r.user].map(csvCell).join(',');
}

const CSV_HEADER = 'ts,device,site,temperature,humidity,battery,status,user';

/** Rows per generated slice: keeps every string well under V8's length limit at 10M rows. */
const SLICE_ROWS = 200_000;

/** Generates the dataset file once under bench/data/ and returns its path. */
export function datasetFile(format: 'ndjson' | 'csv', rows: number, seed = 42): string {
  const dir = join(import.meta.dirname, '..', 'data');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `readings-${rows}-${seed}.${format}`);
  if (existsSync(file)) return file;
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  try {
    if (format === 'csv') writeSync(fd, CSV_HEADER + '\n');
    let lines: string[] = [];
    for (const r of readings(rows, seed)) {
      lines.push(format === 'csv' ? toCsv(r) : toNdjson(r));
      if (lines.length === SLICE_ROWS) {
        writeSync(fd, lines.join('\n') + '\n');
        lines = [];
      }
    }
    if (lines.length) writeSync(fd, lines.join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
  return file;
}

/** Returns the dataset bytes (see `datasetFile`). */
export function dataset(format: 'ndjson' | 'csv', rows: number, seed = 42): Buffer {
  return readFileSync(datasetFile(format, rows, seed));
}
