/**
 * The pipeline spec the speed suites run (the demo schema and rules of the
 * embedded config, in the native contract's JSON form) and a TypeScript
 * reference of what its views must hold for a set of events.
 */
import type { SchemaSpec } from '../../src/core/parser.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import type { RulesSpec } from '../../src/core/rules.js';
import type { ViewSpec } from '../../src/core/window.js';
import type { Reading } from '../../src/speed/generator.js';

export const LATENESS_MS = 10 * 60_000;
export const WINDOW_MS = 60_000;

export const schema: SchemaSpec = {
  fields: [
    { name: 'ts', type: 'timestamp', nullable: false, unit: 'ms' },
    { name: 'device', type: 'string', nullable: false },
    { name: 'site', type: 'string', nullable: false },
    { name: 'temperature', type: 'float64', nullable: true },
    { name: 'humidity', type: 'float64', nullable: true },
    { name: 'battery', type: 'int64', nullable: true },
    { name: 'status', type: 'string', nullable: true },
  ],
  eventTime: 'ts',
};

export const rules: RulesSpec = {
  onError: 'skip',
  checks: [
    { id: 'temperature_range', field: 'temperature', range: { min: -40, max: 125 } },
    { id: 'battery_range', field: 'battery', range: { min: 0, max: 100 } },
    { id: 'status_known', field: 'status', in: ['online', 'idle', 'maintenance', 'fault', 'offline'] },
    { id: 'offline_without_reading', expr: "not (status = 'offline') or temperature is null" },
    { id: 'humidity_plausible', field: 'humidity', range: { min: 0, max: 100 }, severity: 'warn' },
  ],
  derive: [
    {
      column: 'health',
      default: 'ok',
      cases: [
        { when: 'battery < 15', set: 'low_battery' },
        { when: 'temperature > 80', set: 'overheat' },
      ],
    },
  ],
};

export const views: ViewSpec[] = [
  {
    name: 'device_1m',
    window: { type: 'tumbling', sizeMs: WINDOW_MS },
    groupBy: ['device'],
    measures: [
      { name: 'n', op: 'count' },
      { name: 'readings', op: 'count', field: 'temperature' },
      { name: 'lo', op: 'min', field: 'temperature' },
      { name: 'hi', op: 'max', field: 'temperature' },
      { name: 'mean', op: 'avg', field: 'temperature' },
      { name: 'charge', op: 'sum', field: 'battery' },
    ],
  },
  {
    name: 'site_5m',
    window: { type: 'hopping', sizeMs: 5 * WINDOW_MS, slideMs: WINDOW_MS },
    groupBy: ['site'],
    measures: [{ name: 'n', op: 'count' }],
  },
];

export function pipelineSpec(allowedLatenessMs: number | undefined = LATENESS_MS): PipelineSpec {
  return {
    schema,
    parse: { format: 'ndjson', delimiter: ',', header: false, maxRecordBytes: 1 << 20, batchSize: 65_536 },
    rules,
    views,
    ...(allowedLatenessMs === undefined ? {} : { allowedLatenessMs }),
  };
}

/** One row of `device_1m` as the reference computes it. */
export interface DeviceMinute {
  windowStart: number;
  device: string;
  n: number;
  readings: number;
  lo: number | null;
  hi: number | null;
  sum: number;
  charge: number;
}

const key = (windowStart: number, group: string): string => `${windowStart}|${group}`;

/** `device_1m` over the applied readings. */
export function referenceDeviceMinutes(applied: Reading[]): Map<string, DeviceMinute> {
  const out = new Map<string, DeviceMinute>();
  for (const r of applied) {
    const windowStart = Math.floor(r.ts / WINDOW_MS) * WINDOW_MS;
    const k = key(windowStart, r.device);
    let row = out.get(k);
    if (!row) out.set(k, (row = { windowStart, device: r.device, n: 0, readings: 0, lo: null, hi: null, sum: 0, charge: 0 }));
    row.n += 1;
    row.charge += r.battery;
    if (r.temperature !== null) {
      row.readings += 1;
      row.sum += r.temperature;
      row.lo = row.lo === null ? r.temperature : Math.min(row.lo, r.temperature);
      row.hi = row.hi === null ? r.temperature : Math.max(row.hi, r.temperature);
    }
  }
  return out;
}

/** `site_5m` (hopping 5 min every minute) counts over the applied readings. */
export function referenceSiteCounts(applied: Reading[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of applied) {
    const last = Math.floor(r.ts / WINDOW_MS) * WINDOW_MS;
    for (let start = last - 4 * WINDOW_MS; start <= last; start += WINDOW_MS) {
      const k = key(start, r.site);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

/**
 * Which valid readings a partition applies and which it rejects as late,
 * replaying the pipeline's rule: a reading older than the partition's
 * watermark (largest applied event time) minus the lateness is late.
 */
export function splitLate(partitionOrder: Reading[], latenessMs: number): { applied: Reading[]; late: Reading[] } {
  const applied: Reading[] = [];
  const late: Reading[] = [];
  let watermark: number | null = null;
  for (const r of partitionOrder) {
    if (watermark !== null && r.ts < watermark - latenessMs) late.push(r);
    else {
      applied.push(r);
      watermark = watermark === null ? r.ts : Math.max(watermark, r.ts);
    }
  }
  return { applied, late };
}
