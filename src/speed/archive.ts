/**
 * The archiver's half of the checkpoint: the raw values of every message a
 * checkpoint covers (valid, invalid and late alike) become one NDJSON object
 * of the master dataset, named by topic, partition and offset range. The
 * name is a function of the range, so a replay after a crash writes the
 * same object again instead of a second copy, and events too late for the
 * speed layer reach the next batch run.
 */
import type { MicroBatch } from './microbatch.js';
import type { SourceKind } from './source.js';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * `source=<kind>/topic=<topic>/date=<YYYY-MM-DD>/hour=<HH>/<partition>-<first>-<last>.ndjson`,
 * dated by the first message's timestamp (UTC). Keys are relative to the
 * archive location (the master dataset's `raw/`). A CSV stream (one row per
 * message) is archived as `.csv`, headerless like the messages.
 */
export function archiveKey(
  kind: SourceKind,
  topic: string,
  partition: number,
  firstOffset: number,
  lastOffset: number,
  firstTimestamp: number,
  format: 'ndjson' | 'csv' = 'ndjson',
): string {
  const d = new Date(firstTimestamp);
  const date = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  return `source=${kind}/topic=${topic}/date=${date}/hour=${pad2(d.getUTCHours())}/${partition}-${firstOffset}-${lastOffset}.${format}`;
}

/** `_progress/topic=<topic>/partition=<p>.json`: how far the archive of a partition reaches. */
export function progressKey(topic: string, partition: number): string {
  return `_progress/topic=${topic}/partition=${partition}.json`;
}

/** The progress file the batch layer reads to place its coverage end. */
export interface ArchiveProgress {
  topic: string;
  partition: number;
  /** Next offset to archive. */
  offset: string;
  /** Largest event time among the archived valid events (ms), null before any. */
  watermark: number | null;
  updatedAt: string;
  /** The checkpoint sequence that wrote it. */
  seq: number;
  /** The newest archive object. */
  archive: string | null;
}

/** Most message timestamps a micro-batch contributes to the freshness sample. */
export const TIMESTAMP_SAMPLE = 64;

/**
 * The messages processed since the partition's last checkpoint: their
 * offset range and the joined bytes of each micro-batch, which already are
 * NDJSON lines, so the archive body needs no re-encoding.
 */
export class ArchiveSegment {
  private chunks: Buffer[] = [];
  private bytes = 0;
  firstOffset: number | null = null;
  lastOffset: number | null = null;
  firstTimestamp = 0;
  messages = 0;
  /**
   * Source timestamps for freshness (produced → published): every message
   * of a micro-batch of up to `TIMESTAMP_SAMPLE` messages, else that many
   * evenly spaced ones plus the last, so percentiles over them estimate the
   * percentiles over all messages without reading every timestamp.
   */
  timestamps: number[] = [];

  add(batch: MicroBatch): void {
    const first = batch.messages[0];
    const last = batch.messages[batch.messages.length - 1];
    if (!first || !last) return;
    if (this.firstOffset === null) {
      this.firstOffset = first.offset;
      this.firstTimestamp = first.timestamp;
    }
    this.lastOffset = last.offset;
    this.messages += batch.messages.length;
    const n = batch.messages.length;
    const step = n <= TIMESTAMP_SAMPLE ? 1 : n / TIMESTAMP_SAMPLE;
    for (let i = 0; i < n; i += step) this.timestamps.push(batch.messages[Math.floor(i)]!.timestamp);
    if (step > 1) this.timestamps.push(last.timestamp);
    if (batch.bytes.length > 0) {
      this.chunks.push(batch.bytes);
      this.bytes += batch.bytes.length;
    }
  }

  get isEmpty(): boolean {
    return this.firstOffset === null;
  }

  /** The archive object's body: one line per non-empty message value. */
  body(): Buffer {
    return Buffer.concat(this.chunks, this.bytes);
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
    this.firstOffset = null;
    this.lastOffset = null;
    this.firstTimestamp = 0;
    this.messages = 0;
    this.timestamps = [];
  }
}
