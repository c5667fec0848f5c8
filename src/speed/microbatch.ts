/**
 * A micro-batch: the message values of one partition joined with `\n` into
 * one buffer, so the native pipeline parses them in a single call. Each
 * message's start byte is kept, which maps a reject (whose byte offset is
 * relative to the micro-batch) back to the message that carried it.
 */
import type { SourceMessage } from './source.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export interface MicroBatch {
  /** The messages in offset order, including empty ones. */
  messages: SourceMessage[];
  /** The joined values of the non-empty messages, each line ending in `\n`. */
  bytes: Buffer;
  /** Index into `messages` of each joined value, in byte order. */
  joined: number[];
  /** Start byte of each joined value within `bytes` (parallel to `joined`). */
  starts: number[];
  /** Messages whose value is null or blank: they carry no record at all. */
  empty: number[];
}

/** A value without its one trailing line ending, if any. */
function trimLineEnd(value: Buffer): Buffer {
  let end = value.length;
  if (end > 0 && value[end - 1] === NEWLINE) {
    end -= 1;
    if (end > 0 && value[end - 1] === CARRIAGE_RETURN) end -= 1;
  }
  return end === value.length ? value : value.subarray(0, end);
}

/** True when a value holds nothing but whitespace (the parser would skip it silently). */
function isBlank(value: Buffer): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== 0x20 && c !== 0x09 && c !== NEWLINE && c !== CARRIAGE_RETURN) return false;
  }
  return true;
}

/**
 * Joins the messages' values into one micro-batch: one pass to size it, one
 * copy of each value into a buffer allocated once. That buffer is what the
 * pipeline parses and, unchanged, what the archive keeps.
 */
export function joinMessages(messages: SourceMessage[]): MicroBatch {
  const joined: number[] = [];
  const starts: number[] = [];
  const empty: number[] = [];
  const lines: Buffer[] = new Array(messages.length);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const value = messages[i]!.value;
    if (value === null || value === undefined || isBlank(value)) {
      empty.push(i);
      continue;
    }
    const line = trimLineEnd(value);
    lines[i] = line;
    joined.push(i);
    starts.push(at);
    at += line.length + 1;
  }
  const bytes = Buffer.allocUnsafe(at);
  for (let j = 0; j < joined.length; j++) {
    const line = lines[joined[j]!]!;
    const start = starts[j]!;
    line.copy(bytes, start);
    bytes[start + line.length] = NEWLINE;
  }
  return { messages, bytes, joined, starts, empty };
}

/** Index into `batch.messages` of the message whose bytes contain `byteOffset`. */
export function messageAt(batch: MicroBatch, byteOffset: number): number {
  const { starts, joined } = batch;
  let lo = 0;
  let hi = starts.length - 1;
  if (hi < 0) throw new RangeError('an empty micro-batch has no messages');
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= byteOffset) lo = mid;
    else hi = mid - 1;
  }
  return joined[lo]!;
}
