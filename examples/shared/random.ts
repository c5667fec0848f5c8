/**
 * Seeded randomness for the example generators: one PRNG stream (pure-rand's
 * xoroshiro128+) seen as `() => number` in [0, 1), and the few draws the
 * generators need on top of it. The same seed gives the same events.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * Draws discarded after seeding: xoroshiro128+ seeded with a small integer
 * starts with a few outputs close to 1 before its state is mixed.
 */
const WARM_UP = 16;

export function seededRng(seed: number): Rng {
  const generator = xoroshiro128plus(seed);
  for (let i = 0; i < WARM_UP; i++) uniformFloat64(generator);
  return () => uniformFloat64(generator);
}

/** An integer in [min, max], both included. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** A number in [min, max). */
export function between(rng: Rng, min: number, max: number): number {
  return min + rng() * (max - min);
}

export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[Math.floor(rng() * items.length)] as T;
}

/** One of `choices`, each drawn with probability proportional to its weight. */
export function weighted<T>(rng: Rng, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, w]) => sum + w, 0);
  let x = rng() * total;
  for (const [value, w] of choices) {
    x -= w;
    if (x < 0) return value;
  }
  const last = choices[choices.length - 1];
  if (last === undefined) throw new RangeError('weighted choice from an empty list');
  return last[0];
}

/** A normally distributed number (Box–Muller; one draw pair per call keeps the stream simple). */
export function normal(rng: Rng, mean: number, sd: number): number {
  const u = 1 - rng(); // (0, 1]: log stays finite
  const v = rng();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Rounds to `decimals` places (for readings and prices as a device or venue would report them). */
export function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

/** `n` lowercase hex digits. */
export function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}
