/**
 * Turns an object's byte stream into the chunks the pipeline parses:
 * gunzip when the key ends in `.gz` or the bytes start with the gzip magic
 * number, then regroup into chunks of about `chunkSize` bytes. Records may
 * span chunks; the parser keeps the partial record between pushes.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = [0x1f, 0x8b] as const;

export function looksGzipped(key: string, head: Buffer | undefined): boolean {
  if (/\.gz$/i.test(key)) return true;
  return head !== undefined && head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/** A failure to decode an object's bytes (corrupt gzip): retrying will not help. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** Yields the stream's chunks as Buffers, telling `onRaw` how many bytes each held. */
async function* buffers(stream: AsyncIterable<unknown>, onRaw: (bytes: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    onRaw(buf.length);
    yield buf;
  }
}

/**
 * Decompresses a gzip stream. Errors surface as `DecodeError` so the caller
 * can tell corrupt content from a failed read.
 */
async function* gunzip(first: Buffer, rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const inflate = createGunzip();
  let readError: unknown;
  const feed = (async () => {
    try {
      if (!inflate.write(first)) await onceDrained(inflate);
      for await (const chunk of rest) {
        if (!inflate.write(chunk)) await onceDrained(inflate);
      }
      inflate.end();
    } catch (err) {
      readError = err;
      inflate.destroy();
    }
  })();
  try {
    for await (const chunk of inflate) yield chunk as Buffer;
  } catch (err) {
    if (readError !== undefined) throw readError;
    throw new DecodeError(`gzip: ${(err as Error).message}`, { cause: err });
  } finally {
    inflate.destroy();
    await feed;
  }
  if (readError !== undefined) throw readError;
}

function onceDrained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off('error', fail);
      resolve();
    };
    const fail = (err: Error) => {
      stream.off('drain', done);
      reject(err);
    };
    stream.once('drain', done);
    stream.once('error', fail);
  });
}

/**
 * The decoded bytes of an object, as they arrive. `onRaw` counts the bytes
 * read from the store (compressed, for gzip objects), for progress.
 */
export async function* decodedBytes(key: string, body: Readable, onRaw: (bytes: number) => void = () => {}): AsyncGenerator<Buffer> {
  const source = buffers(body, onRaw);
  const first = await source.next();
  if (first.done) return;
  if (looksGzipped(key, first.value)) {
    yield* gunzip(first.value, source);
    return;
  }
  yield first.value;
  yield* source;
}

/**
 * Regroups buffers into chunks of at least `chunkSize` bytes (the last one
 * may be smaller). One napi call per chunk keeps the boundary crossings few.
 */
export async function* rechunk(input: AsyncIterable<Buffer>, chunkSize: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const buf of input) {
    if (size === 0 && buf.length >= chunkSize) {
      yield buf;
      continue;
    }
    parts.push(buf);
    size += buf.length;
    if (size >= chunkSize) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
}
