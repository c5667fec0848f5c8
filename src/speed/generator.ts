/**
 * Demo IoT readings (the embedded config's schema: ts, device, site,
 * temperature, humidity, battery, status), shared by `pulse produce` and the
 * built-in generator source. A configurable share is invalid on purpose —
 * malformed JSON, wrong types, rule violations — so every path of the
 * pipeline and the dead-letter queue gets exercised. Seeded, so a test can
 * regenerate exactly what it produced; each reading carries an `id`
 * (ignored by the schema) that lets tests find it again in the archive.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** What a generated line is meant to be, and so where it must end up. */
export type ReadingKind = 'valid' | 'malformed_json' | 'type_mismatch' | 'rule_violation';

export interface Reading {
  id: string;
  ts: number;
  device: string;
  site: string;
  temperature: number | null;
  humidity: number;
  battery: number;
  status: string;
}

export interface GeneratedReading {
  kind: ReadingKind;
  /** The NDJSON line (no trailing newline). */
  line: string;
  id: string;
  /** The intended reading (for a malformed line, what it was cut from). */
  reading: Reading;
  /** For a rule violation, the demo rule it breaks. */
  ruleId?: string;
}

export interface ReadingGeneratorOptions {
  /** PRNG seed (default: random). */
  seed?: number;
  /** Share of invalid lines, 0..1 (default 0.05). */
  invalidShare?: number;
  devices?: number;
  sites?: number;
  /** Event times fall up to this far before "now" (default 2 000 ms). */
  jitterMs?: number;
  /** Prefix of every id (default `r`), so several producers never collide. */
  idPrefix?: string;
}

const STATUSES = ['online', 'online', 'online', 'online', 'idle', 'idle', 'maintenance', 'fault'];

export class ReadingGenerator {
  private readonly rng;
  private readonly invalidShare: number;
  private readonly devices: number;
  private readonly sites: number;
  private readonly jitterMs: number;
  private readonly idPrefix: string;
  private seq = 0;

  constructor(options: ReadingGeneratorOptions = {}) {
    this.rng = xoroshiro128plus(options.seed ?? Math.floor(Math.random() * 0x7fffffff));
    this.invalidShare = options.invalidShare ?? 0.05;
    if (!(this.invalidShare >= 0 && this.invalidShare <= 1)) throw new RangeError(`invalidShare must be within 0..1, got ${options.invalidShare}`);
    this.devices = options.devices ?? 50;
    this.sites = options.sites ?? 5;
    this.jitterMs = options.jitterMs ?? 2_000;
    this.idPrefix = options.idPrefix ?? 'r';
  }

  private float(): number {
    return uniformFloat64(this.rng);
  }

  private int(from: number, to: number): number {
    return uniformInt(this.rng, from, to);
  }

  /** A valid reading with its event time just before `now`. */
  reading(now: number): Reading {
    const d = this.int(0, this.devices - 1);
    const status = this.float() < 0.02 ? 'offline' : STATUSES[this.int(0, STATUSES.length - 1)]!;
    return {
      id: `${this.idPrefix}-${this.seq++}`,
      ts: now - this.int(0, this.jitterMs),
      device: `dev-${String(d).padStart(3, '0')}`,
      site: `site-${d % this.sites}`,
      temperature: status === 'offline' ? null : Math.round((15 + 20 * this.float() + (this.float() < 0.01 ? 60 : 0)) * 100) / 100,
      // Now and then above 100 %: the warn-only humidity rule keeps such readings.
      humidity: Math.round((30 + 40 * this.float() + (this.float() < 0.01 ? 50 : 0)) * 10) / 10,
      battery: this.float() < 0.05 ? this.int(0, 14) : this.int(15, 100),
      status,
    };
  }

  /** The next line: valid, or with `invalidShare` probability one of the invalid kinds. */
  next(now: number = Date.now()): GeneratedReading {
    const reading = this.reading(now);
    if (this.float() >= this.invalidShare) return { kind: 'valid', line: JSON.stringify(reading), id: reading.id, reading };
    switch (this.int(0, 2)) {
      case 0: {
        const full = JSON.stringify(reading);
        return { kind: 'malformed_json', line: full.slice(0, this.int(5, full.length - 2)), id: reading.id, reading };
      }
      case 1: {
        const wrong = this.float() < 0.5 ? { ...reading, temperature: 'hot' } : { ...reading, battery: 'full' };
        return { kind: 'type_mismatch', line: JSON.stringify(wrong), id: reading.id, reading };
      }
      default:
        return this.violation(reading);
    }
  }

  private violation(reading: Reading): GeneratedReading {
    const cases: [string, Reading][] = [
      ['temperature_range', { ...reading, temperature: 150 + this.int(0, 100), status: 'fault' }],
      ['battery_range', { ...reading, battery: 101 + this.int(0, 50) }],
      ['status_known', { ...reading, status: 'exploded' }],
      ['offline_without_reading', { ...reading, status: 'offline', temperature: 21.5 }],
    ];
    const [ruleId, bad] = cases[this.int(0, cases.length - 1)]!;
    return { kind: 'rule_violation', line: JSON.stringify(bad), id: reading.id, reading: bad, ruleId };
  }
}
