/**
 * Seeds demo history into an empty master dataset, so `pulse up` has a
 * batch view to serve from its first minute. The history ends on a minute
 * boundary before "now": the first batch run's coverage end then lies after
 * every seeded event, and the speed layer's generator takes over from there.
 */
import type { ObjectStore } from '../storage/index.js';
import { ReadingGenerator } from './generator.js';

export interface SeedOptions {
  historyMs: number;
  eventsPerSecond: number;
  now: number;
  /** Share of invalid lines, so the first batch run has rejects to show (default 0.02). */
  invalidShare?: number;
  seed?: number;
}

export interface SeedResult {
  objects: number;
  events: number;
  from: string;
  to: string;
}

const HOUR = 3_600_000;

/** Writes one NDJSON object per hour of history unless the lake already holds data. */
export async function seedHistory(lake: ObjectStore, options: SeedOptions): Promise<SeedResult> {
  const end = Math.floor(options.now / 60_000) * 60_000;
  const start = end - options.historyMs;
  const result: SeedResult = { objects: 0, events: 0, from: new Date(start).toISOString(), to: new Date(end).toISOString() };
  for await (const _ of lake.list('')) return result;
  const gen = new ReadingGenerator({ seed: options.seed ?? 7, invalidShare: options.invalidShare ?? 0.02, jitterMs: 0, idPrefix: 'seed' });
  const step = 1000 / options.eventsPerSecond;
  for (let hour = Math.floor(start / HOUR) * HOUR; hour < end; hour += HOUR) {
    const lines: string[] = [];
    const from = Math.max(start, hour);
    const to = Math.min(end, hour + HOUR);
    for (let t = Math.ceil((from - start) / step) * step + start; t < to; t += step) lines.push(gen.next(Math.floor(t)).line);
    if (lines.length === 0) continue;
    const iso = new Date(hour).toISOString();
    await lake.put(`source=seed/date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/history.ndjson`, Buffer.from(lines.join('\n') + '\n'));
    result.objects++;
    result.events += lines.length;
  }
  return result;
}
