/**
 * The narrow surfaces the speed layer needs from the rest of PulseStream: the
 * fused native pipeline, an object store and a logger. Declaring them here
 * keeps the layer testable piece by piece and documents exactly which calls
 * it relies on; the real `Pipeline` (src/core/pipeline.ts) and `ObjectStore`
 * (src/storage/) satisfy them structurally.
 */

/** One record the pipeline did not apply, with where it was in the stream. */
export interface PipelineRejectLike {
  line: number;
  byteOffset: number;
  kind: string;
  field?: string;
  ruleIds: string[];
  reason: string;
  raw?: string;
}

/** What one `pushAsync`/`finishAsync` call reports. */
export interface PushReportLike {
  records: number;
  applied: number;
  warned: number;
  parseRejects: number;
  ruleRejects: number;
  late: number;
  outOfRange: number;
  rejects: PipelineRejectLike[];
  watermark: number | null;
}

/** The fused parse → rules → windows pipeline, one per owned partition. */
export interface SpeedPipeline {
  pushAsync(chunk: Buffer): Promise<PushReportLike>;
  finishAsync(): Promise<PushReportLike>;
  setViewRange(view: string, from: number, to: number): void;
  snapshot(view: string): Buffer;
  restore(view: string, snapshot: Buffer): void;
  evictThrough(view: string, t: number): number;
  watermark(): number | null;
  /** Raises the watermark to at least `t` (a restored checkpoint's), so lateness is decided as before the restore. */
  raiseWatermark(t: number): void;
  viewNames(): string[];
  /** Frees the native view states now (any later call fails): a revoked partition's states should not wait for V8's garbage collection, which does not see native memory. */
  close(): void;
}

/** The JSON spec a pipeline is compiled from (docs/native-contract.md). */
export interface SpeedPipelineSpec {
  schema: unknown;
  parse: unknown;
  rules?: unknown;
  views: { name: string }[];
  allowedLatenessMs?: number;
}

/** Compiles a pipeline; called once per owned partition. */
export type PipelineFactory = (spec: SpeedPipelineSpec) => SpeedPipeline;

/** The object-store calls the speed layer makes (see src/storage/). */
export interface SpeedStore {
  readonly url: string;
  getBytes(key: string): Promise<Buffer>;
  put(key: string, body: Buffer, options?: { contentType?: string }): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<{ key: string }>;
}

/** True when a store call failed because the key names no object. */
export function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'NotFoundError';
}

/** Reads and parses a JSON object, or `undefined` when the key is absent. */
export async function readJson<T>(store: SpeedStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.getBytes(key)).toString('utf8')) as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Writes a JSON object atomically (the store's `put` is atomic). */
export async function writeJson(store: SpeedStore, key: string, value: unknown): Promise<void> {
  await store.put(key, Buffer.from(JSON.stringify(value, null, 2) + '\n'), { contentType: 'application/json' });
}

/** The pino calls the layer makes; a pino `Logger` fits. */
export interface SpeedLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything, for library use without a logger. */
export const silentLogger: SpeedLogger = { debug() {}, info() {}, warn() {}, error() {} };
