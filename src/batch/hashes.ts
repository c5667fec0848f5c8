/**
 * Definition hashes recorded in every manifest: a reader (or the next run)
 * can tell whether a batch view was computed with the rules, views and
 * schema it runs with now. Hashes are over canonical JSON (keys sorted), so
 * key order in a config file never changes them.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 of the value's canonical JSON. */
export function definitionHash(value: unknown): string {
  return sha256Hex(stringify(value ?? null) ?? 'null');
}
