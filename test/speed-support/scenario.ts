/**
 * A produced stream with everything the speed layer must sort out: valid
 * readings, each invalid kind, empty messages and late events, spread over
 * the partitions in a known order, and what must come out of it.
 */
import type { GeneratedReading, Reading } from '../../src/speed/generator.js';
import { ReadingGenerator } from '../../src/speed/generator.js';
import type { Outgoing } from './kafka.js';
import { splitLate } from './spec.js';

export interface Sent {
  partition: number;
  offset: number;
  /** What the speed layer must do with it. */
  expect: 'apply' | 'malformed_json' | 'type_mismatch' | 'rule_failed' | 'late' | 'empty_message';
  value: string | null;
  generated?: GeneratedReading;
}

export class Scenario {
  readonly sent: Sent[] = [];
  private readonly next: number[];
  private readonly generator: ReadingGenerator;

  constructor(
    readonly partitions: number,
    seed: number,
    invalidShare = 0.1,
  ) {
    this.next = new Array<number>(partitions).fill(0);
    this.generator = new ReadingGenerator({ seed, invalidShare, idPrefix: `s${seed}` });
  }

  private partitionOf(device: string): number {
    return Number(device.slice(4)) % this.partitions;
  }

  private push(partition: number, value: string | null, expect: Sent['expect'], generated?: GeneratedReading): Outgoing {
    this.sent.push({ partition, offset: this.next[partition]!++, expect, value, generated });
    return { partition, value, key: `k${partition}` };
  }

  /** `n` generated readings (valid and invalid) with event times near `now`. */
  readings(n: number, now = Date.now()): Outgoing[] {
    const out: Outgoing[] = [];
    for (let i = 0; i < n; i++) {
      const g = this.generator.next(now);
      const expect = g.kind === 'valid' ? 'apply' : g.kind === 'rule_violation' ? 'rule_failed' : g.kind;
      out.push(this.push(this.partitionOf(g.reading.device), g.line, expect, g));
    }
    return out;
  }

  /** Valid readings far older than the lateness, `perPartition` on each partition. */
  lateReadings(perPartition: number, ageMs: number, now = Date.now()): Outgoing[] {
    const out: Outgoing[] = [];
    for (let p = 0; p < this.partitions; p++) {
      for (let i = 0; i < perPartition; i++) {
        const reading: Reading = { ...this.generator.reading(now - ageMs), device: `dev-${String(p).padStart(3, '0')}` };
        const g: GeneratedReading = { kind: 'valid', line: JSON.stringify(reading), id: reading.id, reading };
        out.push(this.push(p, g.line, 'apply', g));
      }
    }
    return out;
  }

  /** Messages without a value (tombstones) and with a blank one. */
  emptyMessages(): Outgoing[] {
    return [this.push(0, null, 'empty_message'), this.push(this.partitions - 1, '   ', 'empty_message')];
  }

  /** Splits the valid readings into applied and late per partition (in produce order). */
  outcome(latenessMs: number): { applied: Reading[]; late: Set<string> } {
    const applied: Reading[] = [];
    const late = new Set<string>();
    for (let p = 0; p < this.partitions; p++) {
      const order = this.sent.filter((s) => s.partition === p && s.expect === 'apply').map((s) => s.generated!.reading);
      const split = splitLate(order, latenessMs);
      applied.push(...split.applied);
      for (const r of split.late) late.add(r.id);
    }
    for (const s of this.sent) if (s.generated && late.has(s.generated.reading.id) && s.expect === 'apply') s.expect = 'late';
    return { applied, late };
  }
}
