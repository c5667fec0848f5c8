/**
 * Byte sizes as people write them (`"64KiB"`, `"1MiB"`, `"8MB"`) or as a plain
 * number of bytes. Binary units (KiB, MiB, GiB) are powers of 1024, SI units
 * (kB, MB, GB) powers of 1000, as the IEC defines them.
 */
import { z } from 'zod';
import { describeInput } from './duration.js';

const BYTES_PER_UNIT: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

const SIZE = /^(\d+)\s*(B|kB|KB|MB|GB|KiB|MiB|GiB)$/;

/** Binary units tried by `formatByteSize`, largest first. */
const BINARY = [
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
] as const;

/** Parses `"<integer><unit>"` to bytes; `undefined` when the text does not match. */
export function parseByteSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * (BYTES_PER_UNIT[(m[2] as string).toLowerCase()] as number);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Formats bytes in the largest binary unit that divides them exactly (`65536` → `"64KiB"`). */
export function formatByteSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a byte size: ${bytes}`);
  for (const [unit, size] of BINARY) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/** A zod schema accepting a size string or a number of bytes (at least 1) and producing bytes. */
export function byteSize(description?: string) {
  const schema = z
    .union(
      [
        z.string().regex(SIZE, {
          error: (iss) => `invalid size '${String(iss.input)}': use <integer><B|KiB|MiB|GiB|kB|MB|GB>, e.g. "64KiB", "1MiB", or a number of bytes`,
        }),
        z.number().int({ error: 'a size in bytes must be an integer' }).positive({ error: 'a size must be positive' }),
      ],
      { error: (iss) => (iss.input === undefined ? 'required' : `expected a size such as "1MiB" or a number of bytes, got ${describeInput(iss.input)}`) },
    )
    .transform((value, ctx) => {
      const bytes = typeof value === 'number' ? value : parseByteSize(value);
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: `size '${String(value)}' is too large` });
        return z.NEVER;
      }
      if (bytes < 1) {
        ctx.addIssue({ code: 'custom', message: 'a size must be positive' });
        return z.NEVER;
      }
      return bytes;
    });
  return description ? schema.meta({ description }) : schema;
}
