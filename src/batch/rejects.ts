/**
 * Rejected records of one object, written to the errors location as NDJSON:
 * `run=<runId>/<object key, '/' → %2F>.ndjson`, one line per reject with
 * where it was (object, line, byte offset) and why (kind, field, rule ids,
 * reason, the record's first bytes).
 *
 * The file streams to the store as rejects arrive (a multipart upload on
 * S3), so an object full of bad records does not fill memory; it becomes
 * visible only when the object's processing completes, and an abandoned
 * attempt leaves nothing behind.
 */
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../storage/index.js';
import type { PipelineReject } from './pipeline-port.js';

export interface RejectLine {
  object: string;
  line: number;
  byteOffset: number;
  kind: string;
  field: string | null;
  ruleIds: string[];
  reason: string;
  raw: string | null;
}

/** `%` and `/` escaped, so every object maps to one flat, reversible name. */
export function encodeObjectKey(key: string): string {
  return key.replace(/%/g, '%25').replace(/\//g, '%2F');
}

export function decodeObjectKey(name: string): string {
  return name.replace(/%2F/gi, '/').replace(/%25/g, '%');
}

/** Folder of one run's rejects under the errors location. */
export function runRejectPrefix(runId: string): string {
  return `run=${runId}/`;
}

export function rejectKey(runId: string, objectKey: string): string {
  return `${runRejectPrefix(runId)}${encodeObjectKey(objectKey)}.ndjson`;
}

export function toRejectLine(object: string, r: PipelineReject): RejectLine {
  return {
    object,
    line: r.line,
    byteOffset: r.byteOffset,
    kind: r.kind,
    field: r.field ?? null,
    ruleIds: r.ruleIds,
    reason: r.reason,
    raw: r.raw ?? null,
  };
}

/** The rejects file of one attempt at one object; opened on the first reject. */
export class RejectFile {
  readonly key: string;
  private body: PassThrough | undefined;
  private upload: Promise<void> | undefined;
  private failure: unknown;
  count = 0;

  constructor(
    private readonly store: ObjectStore,
    runId: string,
    private readonly object: string,
  ) {
    this.key = rejectKey(runId, object);
  }

  /** Appends rejects, waiting while the upload catches up. */
  async write(rejects: readonly PipelineReject[]): Promise<void> {
    if (rejects.length === 0) return;
    const body = this.open();
    const text = rejects.map((r) => JSON.stringify(toRejectLine(this.object, r))).join('\n') + '\n';
    this.count += rejects.length;
    if (!body.write(text)) await this.drained(body);
    this.throwIfFailed();
  }

  /** Completes the upload; resolves with the key, or undefined when nothing was rejected. */
  async close(): Promise<string | undefined> {
    if (!this.body || !this.upload) return undefined;
    this.body.end();
    await this.upload;
    this.throwIfFailed();
    return this.key;
  }

  /** Abandons the attempt: the upload fails, so no partial file appears. */
  async abort(): Promise<void> {
    if (!this.body || !this.upload) return;
    this.body.destroy(new Error('attempt abandoned'));
    await this.upload.catch(() => {});
  }

  private open(): PassThrough {
    if (this.body) return this.body;
    const body = new PassThrough();
    this.body = body;
    this.upload = this.store.put(this.key, body, { contentType: 'application/x-ndjson' }).catch((err: unknown) => {
      this.failure = err;
      body.destroy();
      throw err;
    });
    // close() and abort() observe the outcome; keep an early failure from being unhandled meanwhile.
    this.upload.catch(() => {});
    return body;
  }

  private drained(body: PassThrough): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        body.off('drain', done);
        body.off('close', done);
        resolve();
      };
      body.once('drain', done);
      body.once('close', done);
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
