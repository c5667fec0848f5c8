import type { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeCause, InvalidKeyError, NotFoundError, StorageError } from './errors.js';
import type { Body, ListOptions, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';
import { checkRange, emptyStream } from './range.js';

/** S3's smallest multipart part (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix inside the bucket that acts as the store's root ('' or ending in '/'). */
  prefix?: string;
  /** Keys per ListObjectsV2 page (MaxKeys), 1–1000. Default 1000. */
  pageSize?: number;
  /**
   * Multipart part size in bytes (≥ 5 MiB). Stream bodies and buffers larger
   * than one part go up as a multipart upload. Default 8 MiB.
   */
  partSize?: number;
  /** Parts uploaded concurrently by one multipart upload. Default 4. */
  queueSize?: number;
}

/** How often `putIfAbsent` retries S3's 409 "conditional request conflict". */
const MAX_CONDITIONAL_CONFLICTS = 5;

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function status(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function errorName(err: unknown): string | undefined {
  return (err as SdkError | undefined)?.name;
}

/** S3 quotes ETags; the store hands them out bare. */
function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^(W\/)?"|"$/g, '');
}

/**
 * Objects in an S3 bucket (AWS or any S3-compatible server), optionally under
 * a key prefix that acts as the store's root.
 *
 * Writes are single PUTs, or multipart uploads for streams and large buffers
 * (`@aws-sdk/lib-storage`), which S3 only makes visible on completion and
 * which are aborted on failure. `putIfAbsent` is a PUT with
 * `If-None-Match: *`, an atomic exclusive create on the server.
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly pageSize: number;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: S3StoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    if (this.prefix !== '' && !this.prefix.endsWith('/')) this.prefix += '/';
    this.url = `s3://${this.bucket}/${this.prefix}`;
    this.pageSize = options.pageSize ?? 1000;
    this.partSize = options.partSize ?? 8 * 1024 * 1024;
    this.queueSize = options.queueSize ?? 4;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer in 1..1000, got ${this.pageSize}`);
    }
    if (!Number.isInteger(this.partSize) || this.partSize < MIN_PART_SIZE) {
      throw new RangeError(`partSize must be at least ${MIN_PART_SIZE} bytes (S3's minimum part), got ${this.partSize}`);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.pageSize,
            ContinuationToken: continuationToken,
            StartAfter: continuationToken === undefined && options.startAfter !== undefined ? this.prefix + options.startAfter : undefined,
          }),
        );
      } catch (err) {
        throw this.fail(prefix, 'list', err);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.prefix.length),
          size: object.Size ?? 0,
          etag: bareEtag(object.ETag),
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async head(key: string): Promise<ObjectInfo> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return {
        key,
        size: res.ContentLength ?? 0,
        etag: bareEtag(res.ETag),
        lastModified: res.LastModified ?? new Date(0),
      };
    } catch (err) {
      throw this.notFoundOr(key, 'head', err);
    }
  }

  read(key: string): Promise<Readable> {
    return this.get(key);
  }

  async readRange(key: string, start: number, end?: number): Promise<Readable> {
    checkRange(this.url, key, start, end);
    if (end === start) {
      await this.head(key); // still report a missing key
      return emptyStream();
    }
    // An HTTP range's end is inclusive; ours is exclusive.
    return this.get(key, `bytes=${start}-${end === undefined ? '' : end - 1}`);
  }

  async getBytes(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const stream = await this.read(key);
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (err) {
      throw this.fail(key, 'read', err);
    }
    return Buffer.concat(chunks);
  }

  async put(key: string, body: Body, options: PutOptions = {}): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      if (Buffer.isBuffer(body) && body.length <= this.partSize) {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentType: options.contentType }),
        );
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: options.contentType },
        partSize: this.partSize,
        queueSize: this.queueSize,
        leavePartsOnError: false, // abort the multipart upload on failure
      });
      await upload.done();
    } catch (err) {
      if (!Buffer.isBuffer(body)) body.destroy();
      throw this.fail(key, 'write', err);
    }
  }

  async putIfAbsent(key: string, body: Buffer, options: PutOptions = {}): Promise<boolean> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.objectKey(key),
      Body: body,
      ContentType: options.contentType,
      IfNoneMatch: '*',
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(command);
        return true;
      } catch (err) {
        if (status(err) === 412 || errorName(err) === 'PreconditionFailed') return false;
        // AWS answers 409 while another conditional write to the key is in
        // flight; the next attempt sees its outcome.
        if (status(err) === 409 && attempt < MAX_CONDITIONAL_CONFLICTS) {
          await sleep(50 * attempt);
          continue;
        }
        throw this.fail(key, 'create', err);
      }
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (err) {
      if (status(err) === 404 && errorName(err) !== 'NoSuchBucket') return;
      throw this.fail(key, 'delete', err);
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const keys = batch;
      batch = [];
      let res;
      try {
        res = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: keys.map((key) => ({ Key: this.objectKey(key) })), Quiet: true },
          }),
        );
      } catch (err) {
        throw this.fail(prefix, 'delete prefix', err);
      }
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new StorageError(
          this.url,
          prefix,
          `cannot delete ${failed.length} of ${keys.length} objects under '${prefix}', first '${first?.Key}': ${first?.Code} ${first?.Message}`,
        );
      }
      deleted += keys.length;
    };
    // DeleteObjects takes up to 1000 keys per request.
    for await (const info of this.list(prefix)) {
      batch.push(info.key);
      if (batch.length === 1000) await flush();
    }
    await flush();
    return deleted;
  }

  private async get(key: string, range?: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range: range }));
      if (!(res.Body instanceof Readable)) throw new Error('response body is not a Node stream');
      return res.Body;
    } catch (err) {
      // A range starting at or past the end: no bytes, as on the filesystem.
      if (range !== undefined && status(err) === 416) return emptyStream();
      throw this.notFoundOr(key, 'read', err);
    }
  }

  private objectKey(key: string): string {
    if (key.length === 0) throw new InvalidKeyError(this.url, key, 'empty key');
    return this.prefix + key;
  }

  private notFoundOr(key: string, op: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const name = errorName(err);
    if (name === 'NoSuchKey' || (status(err) === 404 && name !== 'NoSuchBucket')) {
      return new NotFoundError(this.url, key, { cause: err });
    }
    return this.fail(key, op, err);
  }

  private fail(key: string, op: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const name = errorName(err);
    const detail = name && name !== 'Error' ? `${name}: ${describeCause(err)}` : describeCause(err);
    return new StorageError(this.url, key, `cannot ${op} '${key}': ${detail}`, { cause: err });
  }
}
