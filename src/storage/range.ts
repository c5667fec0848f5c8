import { Readable } from 'node:stream';
import { StorageError } from './errors.js';

/** Rejects byte ranges that are negative, reversed or not integers. */
export function checkRange(url: string, key: string, start: number, end?: number): void {
  const ok = Number.isSafeInteger(start) && start >= 0 && (end === undefined || (Number.isSafeInteger(end) && end >= start));
  if (!ok) throw new StorageError(url, key, `invalid byte range [${start}, ${end ?? 'end'}) for '${key}'`);
}

/** A stream that ends at once: the answer for an empty range. */
export function emptyStream(): Readable {
  return Readable.from([]);
}
