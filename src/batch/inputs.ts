/**
 * The master dataset a run reads: every object under the source, listed
 * once at run start (the run's input set, recorded with ETags in the
 * manifest), minus metadata, optionally narrowed to a range of date/hour
 * partitions and to one shard.
 */
import type { ObjectInfo, ObjectStore } from '../storage/index.js';
import type { ArchiveProgress } from './alignment.js';

export interface InputObject {
  key: string;
  etag: string;
  size: number;
}

/** Keys with a segment starting with `_` are metadata (archive progress, markers), never input. */
export function isMetadataKey(key: string): boolean {
  return key.split('/').some((segment) => segment.startsWith('_'));
}

const PARTITION = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}))?$/;

/** Checks a `--from/--to` value: `YYYY-MM-DD` or `YYYY-MM-DDTHH`. */
export function partitionProblem(text: string): string | undefined {
  return PARTITION.test(text) ? undefined : `invalid partition '${text}': use YYYY-MM-DD or YYYY-MM-DDTHH (UTC)`;
}

/**
 * The partition an object sits in, from its `date=YYYY-MM-DD` and optional
 * `hour=HH` path segments (the archiver's layout), as `YYYY-MM-DD[THH]`.
 */
export function partitionOf(key: string): string | undefined {
  const segments = key.split('/');
  const date = segments.find((s) => /^date=\d{4}-\d{2}-\d{2}$/.test(s))?.slice('date='.length);
  if (!date) return undefined;
  const hour = segments.find((s) => /^hour=\d{2}$/.test(s))?.slice('hour='.length);
  return hour ? `${date}T${hour}` : date;
}

export interface PartitionRange {
  from?: string;
  to?: string;
}

/**
 * Inclusive range test at the coarser of the two precisions: `--to
 * 2026-01-02` takes every hour of that day, and a daily partition overlaps
 * `--from 2026-01-02T06`, so it is taken.
 */
export function inPartitionRange(partition: string, range: PartitionRange): boolean {
  const cut = (bound: string) => Math.min(bound.length, partition.length);
  if (range.from !== undefined && partition.slice(0, cut(range.from)) < range.from.slice(0, cut(range.from))) return false;
  if (range.to !== undefined && partition.slice(0, cut(range.to)) > range.to.slice(0, cut(range.to))) return false;
  return true;
}

export interface ListedInputs {
  inputs: InputObject[];
  /** Objects outside the partition range (or without a partition while a range is set). */
  skipped: number;
}

/** Lists the run's inputs, in key order. */
export async function listInputs(source: ObjectStore, range: PartitionRange = {}): Promise<ListedInputs> {
  const filtered = range.from !== undefined || range.to !== undefined;
  const inputs: InputObject[] = [];
  let skipped = 0;
  for await (const info of source.list('')) {
    if (isMetadataKey(info.key)) continue;
    if (filtered) {
      const p = partitionOf(info.key);
      if (p === undefined || !inPartitionRange(p, range)) {
        skipped++;
        continue;
      }
    }
    inputs.push(toInput(info));
  }
  return { inputs, skipped };
}

function toInput(info: ObjectInfo): InputObject {
  return { key: info.key, etag: info.etag, size: info.size };
}

export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (0 ≤ i < n). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 0 && index < count)) throw new RangeError(`invalid shard '${text}': use i/n with 0 ≤ i < n, e.g. 0/4`);
  return { index, count };
}

/** Objects of shard `index` of `count`: those whose position mod count is index. */
export function shardOf<T>(items: readonly T[], index: number, count: number): { item: T; position: number }[] {
  return items.map((item, position) => ({ item, position })).filter((x) => x.position % count === index);
}

/** Reads the speed layer's archive progress files (`_progress/topic=…/partition=….json`). */
export async function readArchiveProgress(source: ObjectStore): Promise<ArchiveProgress[]> {
  const out: ArchiveProgress[] = [];
  for await (const info of source.list('_progress/')) {
    if (!info.key.endsWith('.json')) continue;
    const bytes = await source.getBytes(info.key);
    let watermark: number | null = null;
    try {
      const v = JSON.parse(bytes.toString('utf8')) as { watermark?: unknown };
      if (typeof v.watermark === 'number' && Number.isFinite(v.watermark)) watermark = v.watermark;
    } catch {
      throw new Error(`archive progress file '${info.key}' in ${source.url} is not valid JSON`);
    }
    out.push({ key: info.key, watermark });
  }
  return out;
}
