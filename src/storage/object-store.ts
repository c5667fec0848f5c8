import type { Readable } from 'node:stream';

/** What a listing or `head` tells about one object. */
export interface ObjectInfo {
  /** Key relative to the store's root, with `/` separators. */
  key: string;
  /** Size in bytes. */
  size: number;
  /**
   * Opaque version tag, without quotes: changes whenever the object is
   * replaced. S3 returns its ETag; the filesystem derives one from inode,
   * size and modification time (like HTTP servers do for files).
   */
  etag: string;
  lastModified: Date;
}

export interface ListOptions {
  /** Only keys strictly greater than this one (in UTF-8 byte order). */
  startAfter?: string;
}

export interface PutOptions {
  contentType?: string;
}

/** An object body: whole in memory, or streamed. */
export type Body = Buffer | Readable;

/**
 * A flat key space of immutable-by-replacement objects, the one storage
 * contract the batch layer, the speed layer's checkpoints and the view store
 * build on. Keys use `/` as separator on every backend.
 *
 * Writes are atomic: readers see the old object or the new one, never a
 * part. `putIfAbsent` is an exclusive create, the primitive behind the batch
 * run lock and checkpoint commits.
 */
export interface ObjectStore {
  /** Where the store points (`file:///…` or `s3://bucket/prefix`), for logs. */
  readonly url: string;

  /**
   * Every object whose key starts with `prefix`, in ascending UTF-8 byte
   * order of keys (the order S3 lists in), fetched page by page.
   */
  list(prefix: string, options?: ListOptions): AsyncIterable<ObjectInfo>;

  /** Metadata of one object. Rejects with `NotFoundError` when absent. */
  head(key: string): Promise<ObjectInfo>;

  /**
   * The object's bytes as a stream. Rejects with `NotFoundError` when absent
   * (before any byte flows), so callers need not watch for it on the stream.
   */
  read(key: string): Promise<Readable>;

  /** Bytes `[start, end)` of the object as a stream (`end` defaults to its size). */
  readRange(key: string, start: number, end?: number): Promise<Readable>;

  /** The whole object in memory. */
  getBytes(key: string): Promise<Buffer>;

  /** Creates or atomically replaces the object. */
  put(key: string, body: Body, options?: PutOptions): Promise<void>;

  /**
   * Creates the object only if no object has that key. Resolves `true` when
   * this call created it, `false` when the key was taken (including by a
   * concurrent caller: exactly one of several racing callers wins).
   */
  putIfAbsent(key: string, body: Buffer, options?: PutOptions): Promise<boolean>;

  /** Removes the object; removing an absent key is not an error. */
  delete(key: string): Promise<void>;

  /** Removes every object under the prefix; resolves with how many. */
  deletePrefix(prefix: string): Promise<number>;
}
