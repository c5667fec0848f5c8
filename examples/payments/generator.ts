/**
 * Card transactions as a compliance officer sees them: merchants with their
 * merchant category codes (MCC), amounts in the country's currency, and
 * card numbers masked as PCI DSS allows (first six and last four digits).
 * A few large travel bookings and high gambling stakes trip the warn rules;
 * the invalid lines are what the validation rules exist to stop.
 */
import { chance, hex, intBetween, normal, pick, round, weighted, type Rng } from '../shared/random.js';

export const history = { days: 1, eventsPerMinute: 90 };

interface Merchant {
  name: string;
  mcc: number;
  /** Median amount (in EUR-like units) and spread of the log-normal amount. */
  median: number;
  spread: number;
  weight: number;
}

const MERCHANTS: readonly Merchant[] = [
  { name: 'FreshMart', mcc: 5411, median: 38, spread: 0.6, weight: 20 },
  { name: 'Bio Corner', mcc: 5499, median: 22, spread: 0.5, weight: 6 },
  { name: 'Boulangerie du Port', mcc: 5462, median: 9, spread: 0.4, weight: 5 },
  { name: 'Trattoria Sole', mcc: 5812, median: 46, spread: 0.5, weight: 8 },
  { name: 'Corner Coffee', mcc: 5814, median: 6, spread: 0.4, weight: 10 },
  { name: 'Skyways Airlines', mcc: 4511, median: 320, spread: 0.7, weight: 3 },
  { name: 'Harbour Hotel', mcc: 7011, median: 240, spread: 0.6, weight: 3 },
  { name: 'RailLink', mcc: 4112, median: 58, spread: 0.6, weight: 5 },
  { name: 'CityCab', mcc: 4121, median: 19, spread: 0.5, weight: 6 },
  { name: 'Fuel Stop', mcc: 5541, median: 62, spread: 0.4, weight: 7 },
  { name: 'LuckyBet Online', mcc: 7995, median: 60, spread: 1.3, weight: 2 },
  { name: 'Grand Casino Riviera', mcc: 7999, median: 150, spread: 0.9, weight: 1 },
  { name: 'ATM Network', mcc: 6011, median: 100, spread: 0.6, weight: 5 },
  { name: 'Pixel Electronics', mcc: 5732, median: 180, spread: 0.9, weight: 4 },
  { name: 'Streamly', mcc: 4899, median: 12, spread: 0.2, weight: 6 },
  { name: 'Pharma Plus', mcc: 5912, median: 17, spread: 0.5, weight: 5 },
];

/** Country, its currency, how many euros one unit is worth (roughly), share of transactions. */
const COUNTRIES = [
  ['DE', 'EUR', 1, 24],
  ['FR', 'EUR', 1, 18],
  ['NL', 'EUR', 1, 10],
  ['ES', 'EUR', 1, 10],
  ['IT', 'EUR', 1, 9],
  ['GB', 'GBP', 1.18, 12],
  ['US', 'USD', 0.92, 9],
  ['CH', 'CHF', 1.05, 5],
] as const;

/** Issuer BINs (the first six digits) the cards in the sample belong to. */
const BINS = ['453201', '492181', '516732', '540667', '601100', '371449'] as const;
const CARDS = 800;

export interface Transaction extends Record<string, unknown> {
  ts: number;
  txn_id: string;
  amount: number;
  currency: string;
  merchant: string;
  mcc: number;
  country: string;
  card_id: string;
}

/** Card `i` of the pool, masked: BIN, six asterisks, last four digits. */
function card(i: number): string {
  const bin = BINS[i % BINS.length] as string;
  const last4 = String((i * 7919) % 10_000).padStart(4, '0');
  return `${bin}******${last4}`;
}

function amountFor(rng: Rng, m: Merchant, eurPerUnit: number): number {
  let eur = m.median * Math.exp(normal(rng, 0, m.spread));
  // ATMs dispense multiples of 10, at most 500 a withdrawal.
  if (m.mcc === 6011) return Math.min(500, Math.max(20, Math.round(eur / 10) * 10));
  // Now and then a large booking: over the 10 000 reporting threshold (a warn rule).
  if ((m.mcc === 4511 || m.mcc === 7011) && chance(rng, 0.01)) eur = 10_000 + rng() * 8_000;
  return Math.max(0.5, round(Math.min(eur / eurPerUnit, 45_000), 2));
}

export function event(rng: Rng, tsMs: number): Transaction {
  const merchant = weighted(
    rng,
    MERCHANTS.map((m) => [m, m.weight] as const),
  );
  const [country, currency, eurPerUnit] = weighted(
    rng,
    COUNTRIES.map((c) => [c, c[3]] as const),
  );
  return {
    ts: tsMs,
    txn_id: `tx-${hex(rng, 12)}`,
    amount: amountFor(rng, merchant, eurPerUnit),
    currency,
    merchant: merchant.name,
    mcc: merchant.mcc,
    country,
    card_id: card(intBetween(rng, 0, CARDS - 1)),
  };
}

const BREAKAGES: readonly ((t: Transaction, rng: Rng) => string)[] = [
  // malformed JSON: a truncated export line
  (t, rng) => {
    const full = JSON.stringify(t);
    return full.slice(0, intBetween(rng, 1, full.length - 1));
  },
  // wrong type: an amount formatted for people ("49,90")
  (t) => JSON.stringify({ ...t, amount: t.amount.toFixed(2).replace('.', ',') }),
  // amount_required
  (t) => JSON.stringify({ ...t, amount: null }),
  // amount_range
  (t) => JSON.stringify({ ...t, amount: -t.amount }),
  // currency_known
  (t) => JSON.stringify({ ...t, currency: 'BTC' }),
  // card_masked: the full card number leaked into the feed
  (t, rng) => JSON.stringify({ ...t, card_id: t.card_id.replace('******', String(intBetween(rng, 100_000, 999_999))) }),
  // atm_cash_limit: a cash withdrawal over 1 000
  (t) => JSON.stringify({ ...t, merchant: 'ATM Network', mcc: 6011, amount: 1500 }),
  // country_code
  (t) => JSON.stringify({ ...t, country: 'Germany' }),
];

export function invalid(rng: Rng, tsMs: number): string {
  return pick(rng, BREAKAGES)(event(rng, tsMs), rng);
}
