/**
 * ISO-8601 UTC text of epoch milliseconds, exactly as `Date.toISOString`
 * writes it, without a `Date` per value: answers carry two per row and
 * every answer several, so this is on the hot path.
 */
const DAY_MS = 86_400_000;

/** `YYYY-MM-DDT` of each day seen, so a day's windows format their date once. */
const dayPrefixes = new Map<number, string>();

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Years 0000–9999 take the fast path; others (six-digit years) go through `Date`. */
export function isoTime(ms: number): string {
  if (ms < -62_167_219_200_000 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefixes.size > 10_000) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const sec = Math.floor(rest / 1000);
  return `${prefix}${pad(h, 2)}:${pad(m, 2)}:${pad(sec, 2)}.${pad(rest - sec * 1000, 3)}Z`;
}

