/**
 * Durations as people write them in a config (`"500ms"`, `"30s"`, `"1m"`,
 * `"2h"`, `"1d"`) or as a plain number of milliseconds. Everything past the
 * config works in milliseconds only.
 */
import { z } from 'zod';

/** Milliseconds per unit, largest first (the order `formatDuration` tries them in). */
const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const MS_PER_UNIT: Record<string, number> = Object.fromEntries(UNITS);

const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** The grammar, for error messages and the JSON Schema. */
export const DURATION_PATTERN = '^\\d+(ms|s|m|h|d)$';

/** Parses `"<integer><ms|s|m|h|d>"` to milliseconds; `undefined` when the text does not match. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (MS_PER_UNIT[m[2] as string] as number);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Formats milliseconds in the largest unit that divides them exactly (`90000` → `"90s"`). */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a duration in ms: ${ms}`);
  if (ms === 0) return '0ms';
  for (const [unit, size] of UNITS) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export interface DurationOptions {
  /** Smallest accepted value in ms (inclusive); 0 unless given. */
  min?: number;
  description?: string;
}

/**
 * A zod schema accepting a duration string or a number of milliseconds and
 * producing milliseconds. `min: 1` makes a zero duration an error (window
 * sizes, gaps).
 */
export function duration(options: DurationOptions = {}) {
  const min = options.min ?? 0;
  const schema = z
    .union([
      z.string().regex(DURATION, {
        error: (iss) => `invalid duration '${String(iss.input)}': use <integer><ms|s|m|h|d>, e.g. "500ms", "30s", "1m", "2h", "1d", or a number of milliseconds`,
      }),
      z.number().int({ error: 'a duration in milliseconds must be an integer' }).nonnegative({ error: 'a duration must not be negative' }),
    ], { error: (iss) => (iss.input === undefined ? 'required' : `expected a duration such as "30s" or a number of milliseconds, got ${describeInput(iss.input)}`) })
    .transform((value, ctx) => {
      const ms = typeof value === 'number' ? value : parseDuration(value);
      if (ms === undefined || !Number.isSafeInteger(ms)) {
        ctx.addIssue({ code: 'custom', message: `duration '${String(value)}' is too large` });
        return z.NEVER;
      }
      if (ms < min) {
        ctx.addIssue({ code: 'custom', message: `duration must be at least ${formatDuration(min)}, got ${formatDuration(ms)}` });
        return z.NEVER;
      }
      return ms;
    });
  return options.description ? schema.meta({ description: options.description }) : schema;
}

/** A short description of a value of the wrong type, for error messages. */
export function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') return `'${input}'`;
  if (typeof input === 'object') return 'an object';
  return `${typeof input} ${String(input)}`;
}
