/**
 * What every example's `generator.ts` exports, and how its events become
 * NDJSON lines. A generator is a pure function of a random stream and an
 * event time, so a seed reproduces a whole history.
 */
import type { Rng } from './random.js';

/** The example pipelines shipped in `examples/`. */
export const EXAMPLE_NAMES = ['iot', 'trading', 'payments', 'social'] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];

export function isExampleName(name: string): name is ExampleName {
  return (EXAMPLE_NAMES as readonly string[]).includes(name);
}

/** How much history the runner writes into the lake before going live. */
export interface HistoryShape {
  days: number;
  /** Events per minute of history (rows per minute for generators with `rows`). */
  eventsPerMinute: number;
}

export interface ExampleGenerator {
  /** One valid event at `tsMs`: every error rule of the example passes. */
  event(rng: Rng, tsMs: number): Record<string, unknown>;
  /** One raw NDJSON line (no newline) the pipeline must reject: malformed JSON, a wrong type, or a rule violation. */
  invalid(rng: Rng, tsMs: number): string;
  history: HistoryShape;
  /**
   * Rows an event is written as, when it is not one row itself (the social
   * example writes one row per hashtag of a post).
   */
  rows?(event: Record<string, unknown>): Record<string, unknown>[];
}

/**
 * The NDJSON lines of one draw at `tsMs`: with probability `invalidShare`
 * one invalid line, else the rows of one valid event.
 */
export function drawLines(gen: ExampleGenerator, rng: Rng, tsMs: number, invalidShare: number): { lines: string[]; invalid: boolean } {
  if (invalidShare > 0 && rng() < invalidShare) return { lines: [gen.invalid(rng, tsMs)], invalid: true };
  const event = gen.event(rng, tsMs);
  const rows = gen.rows ? gen.rows(event) : [event];
  return { lines: rows.map((r) => JSON.stringify(r)), invalid: false };
}
