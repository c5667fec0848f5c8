/**
 * Equity trade ticks for eight symbols on five venues. A symbol's price is a
 * smooth function of time (two slow waves around its reference price) plus
 * tick noise, so history and live ticks agree without any state. Each tick
 * carries `notional = price * size`, the one numeric the VWAP needs that a
 * rule cannot derive (derivations produce labels).
 */
import { intBetween, normal, pick, round, weighted, type Rng } from '../shared/random.js';

export const history = { days: 1, eventsPerMinute: 240 };

/** Symbol, reference price, share of the tape. */
const SYMBOLS = [
  ['AAPL', 228, 18],
  ['MSFT', 415, 14],
  ['NVDA', 131, 22],
  ['AMZN', 186, 10],
  ['GOOGL', 165, 9],
  ['TSLA', 242, 15],
  ['JPM', 212, 6],
  ['BRK.B', 452, 6],
] as const;

const VENUES = [
  ['XNAS', 34],
  ['XNYS', 22],
  ['ARCX', 14],
  ['BATS', 18],
  ['IEXG', 12],
] as const;

const HOUR_MS = 3_600_000;

export interface Tick extends Record<string, unknown> {
  ts: number;
  symbol: string;
  price: number;
  size: number;
  side: 'buy' | 'sell';
  venue: string;
  notional: number;
}

/** The price level of symbol `i` at `tsMs`: a 6-hour swing of ±3 % and a 37-minute ripple of ±0.8 %. */
function level(i: number, reference: number, tsMs: number): number {
  const slow = 0.03 * Math.sin((2 * Math.PI * tsMs) / (6 * HOUR_MS) + i * 1.3);
  const fast = 0.008 * Math.sin((2 * Math.PI * tsMs) / (37 * 60_000) + i * 2.1);
  return reference * (1 + slow + fast);
}

/** Trade size: mostly odd lots and round lots, sometimes a block. */
function size(rng: Rng): number {
  const kind = weighted(rng, [
    ['odd', 55],
    ['round', 40],
    ['block', 5],
  ] as const);
  if (kind === 'odd') return intBetween(rng, 1, 99);
  if (kind === 'round') return intBetween(rng, 1, 20) * 100;
  return intBetween(rng, 10, 50) * 1000;
}

export function event(rng: Rng, tsMs: number): Tick {
  const i = weighted(
    rng,
    SYMBOLS.map(([, , share], index) => [index, share] as const),
  );
  const [symbol, reference] = SYMBOLS[i] as (typeof SYMBOLS)[number];
  const price = round(level(i, reference, tsMs) * (1 + normal(rng, 0, 0.0004)), 2);
  const qty = size(rng);
  return {
    ts: tsMs,
    symbol,
    price,
    size: qty,
    side: rng() < 0.5 ? 'buy' : 'sell',
    venue: weighted(rng, VENUES),
    // Exactly the product the `notional_matches` rule recomputes.
    notional: price * qty,
  };
}

const BREAKAGES: readonly ((t: Tick, rng: Rng) => string)[] = [
  // malformed JSON: a line cut off mid-record
  (t, rng) => {
    const full = JSON.stringify(t);
    return full.slice(0, intBetween(rng, 1, full.length - 1));
  },
  // wrong type: a price sent as text
  (t) => JSON.stringify({ ...t, price: t.price.toFixed(2) }),
  // wrong type: a fractional share count
  (t) => JSON.stringify({ ...t, size: t.size + 0.5, notional: t.price * (t.size + 0.5) }),
  // price_positive
  (t) => JSON.stringify({ ...t, price: 0, notional: 0 }),
  // size_positive
  (t) => JSON.stringify({ ...t, size: -t.size, notional: -t.notional }),
  // side_known
  (t) => JSON.stringify({ ...t, side: 'hold' }),
  // symbol_format
  (t) => JSON.stringify({ ...t, symbol: t.symbol.toLowerCase() }),
  // notional_matches: a notional off by 1 %
  (t) => JSON.stringify({ ...t, notional: t.notional * 1.01 }),
];

export function invalid(rng: Rng, tsMs: number): string {
  return pick(rng, BREAKAGES)(event(rng, tsMs), rng);
}
