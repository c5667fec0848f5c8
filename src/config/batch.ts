/**
 * `batch`: where the master dataset lives, how it is read, where views and
 * rejects go, and when the nightly recomputation runs.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { duration } from './duration.js';
import { childLocation, location } from './location.js';
import { byteSize } from './size.js';

/** Local folders used when a config names none (and by the embedded defaults). */
export const LOCAL_LAKE = './.pulse/lake/raw/';
export const LOCAL_STORE = './.pulse/store/';

export const recordFormat = z.enum(['ndjson', 'csv']);

/** Why a cron string does not parse, or `undefined` when it does. */
export function cronProblem(expr: string): string | undefined {
  try {
    new Cron(expr).stop();
    return undefined;
  } catch (e) {
    return `invalid cron schedule '${expr}': ${(e as Error).message.replace(/^CronPattern: /, '')}`;
  }
}

const csv = z
  .strictObject({
    delimiter: z
      .string()
      .length(1, { error: 'the delimiter is one character' })
      .refine((d) => d !== '"' && d !== '\n' && d !== '\r', { error: 'the delimiter cannot be a quote or a line break' })
      .default(','),
    header: z.boolean().default(true).meta({ description: 'First row names the columns (matched by name); false: columns in schema order.' }),
  })
  .meta({ description: 'CSV options (format csv only).' });

export const batch = z
  .strictObject({
    source: location('The master dataset: s3://bucket/prefix/, file:///dir/ or a path.').default(LOCAL_LAKE),
    format: recordFormat.default('ndjson'),
    csv: csv.prefault({}),
    viewStore: location('Where batch views (views/) and run records (runs/) are written.').default(LOCAL_STORE),
    errors: location('Where rejected records are written (default <viewStore>/errors/).').optional(),
    schedule: z
      .string()
      .superRefine((expr, ctx) => {
        const problem = cronProblem(expr);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .default('0 2 * * *')
      .meta({ description: 'Cron schedule of `pulse batch schedule` (5 or 6 fields; default nightly at 02:00).' }),
    concurrency: z.number().int().min(1).max(256).optional().meta({ description: 'Objects read at the same time, one pipeline each (default: one per CPU).' }),
    chunkSize: byteSize('Bytes handed to the pipeline per call (default 1MiB).').prefault('1MiB'),
    maxRecordBytes: byteSize('A record longer than this is rejected as record_too_large (default 1MiB).').prefault('1MiB'),
    lockTtl: duration({ min: 1, description: 'A run lock not renewed within this time is considered abandoned (default 2h).' }).prefault('2h'),
  })
  .transform((b) => ({ ...b, errors: b.errors ?? childLocation(b.viewStore, 'errors/') }))
  .meta({ description: 'The batch layer.' });

export type BatchInput = z.input<typeof batch>;
export type Batch = z.output<typeof batch>;
