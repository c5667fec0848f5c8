/**
 * The records the serving layer reads from the view store
 * (docs/store-layout.md): batch manifests and realtime checkpoints. Both are
 * written by other processes, so they are validated on read; unknown keys
 * are kept out of the way, not rejected, so the writers can add fields.
 */
import { z } from 'zod';

export const BATCH_PREFIX = 'views/';
export const REALTIME_PREFIX = 'realtime/';
export const CHECKPOINT_FILE = 'checkpoint.json';

export function manifestKey(view: string): string {
  return `views/${view}/batch/manifest.json`;
}

/** True for `realtime/<topic>-<partition>/checkpoint.json`. */
export function isCheckpointKey(key: string): boolean {
  const parts = key.split('/');
  return parts.length === 3 && parts[0] === 'realtime' && parts[2] === CHECKPOINT_FILE && parts[1] !== '';
}

const epochMs = z.number().int().safe();

export const batchManifest = z.looseObject({
  view: z.string().min(1),
  version: z.string().min(1),
  coverageEnd: epochMs,
  alignmentMs: z.number().int().positive().optional(),
  createdAt: z.string().optional(),
  snapshot: z.string().min(1),
  viewHash: z.string().optional(),
  runId: z.string().optional(),
});
export type BatchManifest = z.output<typeof batchManifest>;

export const realtimeCheckpoint = z.looseObject({
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  seq: z.number().int().nonnegative(),
  /** Next offset to consume, as Kafka prints it (a decimal string). */
  offset: z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String),
  watermark: epochMs.nullable().optional().transform((w) => w ?? null),
  /** When the checkpoint was written (ISO-8601), as epoch ms. */
  createdAt: z
    .string()
    .refine((t) => Number.isFinite(Date.parse(t)), { error: 'not an ISO-8601 time' })
    .transform((t) => Date.parse(t)),
  /** View name → key of that view's snapshot for this partition at this seq. */
  views: z.record(z.string(), z.string().min(1)),
  /** View name → the batch coverage end the speed layer had applied (evicted through) when it wrote this checkpoint. */
  batchCoverage: z.record(z.string(), epochMs).optional().transform((b) => b ?? {}),
});
export type RealtimeCheckpoint = z.output<typeof realtimeCheckpoint>;

/** Parses a JSON record, returning the problem as text instead of throwing. */
export function parseRecord<S extends z.ZodType>(schema: S, bytes: Buffer): { ok: true; value: z.output<S> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return { ok: false, problem: `not JSON: ${(e as Error).message}` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problem: result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
}
