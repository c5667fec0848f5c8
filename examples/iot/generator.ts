/**
 * Sensor readings from 24 devices on four sites. Temperatures follow a daily
 * cycle around a per-device baseline, batteries drain and get recharged, and
 * a few readings are faults, overheats or offline devices, so every health
 * label and the faults view have something to show.
 */
import { chance, intBetween, normal, pick, round, weighted, type Rng } from '../shared/random.js';

export const history = { days: 1, eventsPerMinute: 120 };

const SITES = ['plant-a', 'plant-b', 'warehouse', 'office'] as const;
/** Typical indoor temperature per site (°C). */
const SITE_BASE: Record<(typeof SITES)[number], number> = { 'plant-a': 31, 'plant-b': 27, warehouse: 14, office: 22 };
const DEVICE_COUNT = 24;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const STATUSES = [
  ['online', 90],
  ['idle', 5],
  ['maintenance', 2],
  ['fault', 2],
  ['offline', 1],
] as const;

export interface Reading extends Record<string, unknown> {
  ts: number;
  device: string;
  site: string;
  temperature: number | null;
  humidity: number;
  battery: number;
  status: string;
}

function deviceName(i: number): string {
  return `sensor-${String(i + 1).padStart(2, '0')}`;
}

/** Battery level: drains one point an hour from 100 and is recharged at 5, each device on its own phase. */
function battery(device: number, tsMs: number): number {
  const hours = Math.floor(tsMs / HOUR_MS) + device * 17;
  return 100 - (hours % 96);
}

/** Temperature: site baseline, a per-device offset, a daily cycle (warmest mid-afternoon UTC) and noise. */
function temperature(rng: Rng, device: number, site: (typeof SITES)[number], tsMs: number): number {
  const dayPhase = ((tsMs % DAY_MS) / DAY_MS) * 2 * Math.PI;
  const cycle = 4 * Math.sin(dayPhase - Math.PI * 0.75);
  const offset = ((device * 7) % 5) - 2;
  return SITE_BASE[site] + offset + cycle + normal(rng, 0, 0.8);
}

export function event(rng: Rng, tsMs: number): Reading {
  const i = intBetween(rng, 0, DEVICE_COUNT - 1);
  const site = SITES[i % SITES.length] as (typeof SITES)[number];
  const status = weighted(rng, STATUSES);
  // An overheating machine: rare, and only on the plant floors.
  const overheat = site.startsWith('plant') && chance(rng, 0.01);
  const reading = overheat ? 80 + rng() * 20 : temperature(rng, i, site, tsMs);
  // A few humidity readings past 100 %: kept, counted by the warn rule.
  const humidity = chance(rng, 0.005) ? 100 + rng() * 3 : 45 + normal(rng, 0, 8);
  return {
    ts: tsMs,
    device: deviceName(i),
    site,
    temperature: status === 'offline' ? null : round(reading, 1),
    humidity: round(Math.min(Math.max(humidity, 5), 103), 1),
    battery: battery(i, tsMs),
    status,
  };
}

/** The ways a reading is rejected: the line does not parse, a value has the wrong type, or an error rule fails. */
const BREAKAGES: readonly ((r: Reading, rng: Rng) => string)[] = [
  // malformed JSON: the line was cut off in transit
  (r, rng) => {
    const full = JSON.stringify(r);
    return full.slice(0, intBetween(rng, 1, full.length - 1));
  },
  // wrong type: the firmware sent the unit along
  (r) => JSON.stringify({ ...r, temperature: `${r.temperature ?? 21.5}°C` }),
  (r) => JSON.stringify({ ...r, battery: 'full' }),
  // temperature_range: a disconnected probe reads 150 °C
  (r) => JSON.stringify({ ...r, temperature: 150, status: 'online' }),
  // battery_range
  (r) => JSON.stringify({ ...r, battery: 140 }),
  // status_known
  (r) => JSON.stringify({ ...r, status: 'rebooting' }),
  // offline_without_reading
  (r) => JSON.stringify({ ...r, status: 'offline', temperature: 19.5 }),
];

export function invalid(rng: Rng, tsMs: number): string {
  const reading = event(rng, tsMs);
  return pick(rng, BREAKAGES)(reading, rng);
}
