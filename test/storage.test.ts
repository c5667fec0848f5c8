/**
 * One contract suite for both ObjectStore backends: a local directory, and a
 * bucket on the real S3 server (S3Proxy) the global setup started.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfo, ObjectStore } from '../src/storage/index.js';
import { FileSystemStore, InvalidKeyError, MIN_PART_SIZE, NotFoundError, openStore, S3Store, StorageError } from '../src/storage/index.js';
import { compareKeys, fileKeyProblem } from '../src/storage/keys.js';
import type { TestBucket } from './support/s3.js';
import { createTestBucket, testS3Client } from './support/s3.js';

const MiB = 1024 * 1024;
const PAGE_SIZE = 7;

interface Backend {
  name: string;
  /** Opens a fresh, empty store. */
  open(): Promise<ObjectStore>;
  close(): Promise<void>;
}

function filesystemBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'filesystem',
    async open() {
      dir = await mkdtemp(join(tmpdir(), 'pulse-storage-'));
      return openStore(join(dir, 'root'), { pageSize: PAGE_SIZE });
    },
    async close() {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function s3Backend(): Backend {
  let bucket: TestBucket | undefined;
  return {
    name: 's3',
    async open() {
      bucket = await createTestBucket('storage');
      // Rooted under a prefix, so the suite also checks that keys come back relative to it.
      return openStore(`s3://${bucket.name}/root`, { pageSize: PAGE_SIZE, partSize: MIN_PART_SIZE });
    },
    async close() {
      await bucket?.remove();
    },
  };
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function keysOf(iterable: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of iterable) keys.push(info.key);
  return keys;
}

async function drain(stream: Readable): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

/** A deterministic pseudo-random body of `size` bytes, different per seed. */
function bodyOf(size: number, seed: number): Buffer {
  const block = createHash('sha512').update(String(seed)).digest();
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += block.length) block.copy(out, i);
  for (let i = 0; i < size; i += 4096) out[i] = (i / 4096 + seed) & 0xff;
  return out;
}

/** Streams a buffer in 1 MiB chunks, optionally failing after `failAfter` bytes. */
function chunked(body: Buffer, failAfter?: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < body.length; i += MiB) {
        if (failAfter !== undefined && i >= failAfter) throw new Error('source failed mid-stream');
        yield body.subarray(i, i + MiB);
      }
    })(),
  );
}

describe.each([filesystemBackend(), s3Backend()])('ObjectStore contract: $name', (backend) => {
  let store: ObjectStore;

  beforeAll(async () => {
    store = await backend.open();
  });
  afterAll(async () => {
    await backend.close();
  });

  it('writes, heads and reads back an object', async () => {
    await store.put('docs/hello.txt', text('hello, world'), { contentType: 'text/plain' });
    const info = await store.head('docs/hello.txt');
    expect(info.key).toBe('docs/hello.txt');
    expect(info.size).toBe(12);
    expect(info.etag).toMatch(/^[^"]+$/);
    expect(info.lastModified.getTime()).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect((await store.getBytes('docs/hello.txt')).toString()).toBe('hello, world');
    expect(await keysOf(store.list('docs/'))).toEqual(['docs/hello.txt']);
  });

  it('lists more objects than a page holds, in key order, and resumes after a key', async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `paged/obj-${String(i).padStart(2, '0')}`);
    await Promise.all(keys.map((key, i) => store.put(key, text(`body ${i}`))));

    const listed: ObjectInfo[] = [];
    for await (const info of store.list('paged/')) listed.push(info);
    expect(listed.map((i) => i.key)).toEqual(keys);
    expect(listed.map((i) => i.size)).toEqual(keys.map((_, i) => `body ${i}`.length));
    expect(new Set(listed.map((i) => i.etag)).size).toBe(25);

    expect(await keysOf(store.list('paged/', { startAfter: 'paged/obj-09' }))).toEqual(keys.slice(10));
    expect(await keysOf(store.list('paged/', { startAfter: 'paged/obj-24' }))).toEqual([]);
    expect(await keysOf(store.list('paged/', { startAfter: 'paged/' }))).toEqual(keys);
  });

  it('matches prefixes as strings, not directories, in byte order', async () => {
    const keys = [
      'pfx/a/b',
      'pfx/a-c',
      'pfx/a0',
      'pfx/raw/2024-01-01/part-0.csv',
      'pfx/raw/2024-01-01/part-1.csv',
      'pfx/raw/2024-01-02/part-0.csv',
      'pfx/raw/2024-01-020.csv',
      'pfx/rawish.csv',
      'pfx/\u00e9t\u00e9.csv',
    ];
    await Promise.all(keys.map((key) => store.put(key, text(key))));
    const sorted = [...keys].sort(compareKeys);

    expect(await keysOf(store.list('pfx/'))).toEqual(sorted);
    // '-' (0x2d) < '/' (0x2f) < '0' (0x30): directories interleave with files.
    expect(await keysOf(store.list('pfx/a'))).toEqual(['pfx/a-c', 'pfx/a/b', 'pfx/a0']);
    expect(await keysOf(store.list('pfx/raw/2024-01-0'))).toEqual([
      'pfx/raw/2024-01-01/part-0.csv',
      'pfx/raw/2024-01-01/part-1.csv',
      'pfx/raw/2024-01-02/part-0.csv',
      'pfx/raw/2024-01-020.csv',
    ]);
    expect(await keysOf(store.list('pfx/raw/2024-01-01/'))).toEqual(['pfx/raw/2024-01-01/part-0.csv', 'pfx/raw/2024-01-01/part-1.csv']);
    expect(await keysOf(store.list('pfx/raw'))).toEqual(sorted.filter((k) => k.startsWith('pfx/raw')));
    expect(await keysOf(store.list('pfx/raw', { startAfter: 'pfx/raw/2024-01-01/part-0.csv' }))).toEqual([
      'pfx/raw/2024-01-01/part-1.csv',
      'pfx/raw/2024-01-02/part-0.csv',
      'pfx/raw/2024-01-020.csv',
      'pfx/rawish.csv',
    ]);
    expect(await keysOf(store.list('pfx/nothing-here/'))).toEqual([]);
  });

  it('lists any key set in sorted order, from any start (property)', async () => {
    const segment = fc.stringMatching(/^[a-c0-9\-._\u00e9]{1,4}$/).filter((s) => fileKeyProblem(s) === undefined);
    const key = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
    // A tree cannot hold both 'a' and 'a/b'; S3 can, but the contract is the common ground.
    const keySet = fc.uniqueArray(key, { minLength: 1, maxLength: 12 }).filter((ks) => !ks.some((a) => ks.some((b) => b.startsWith(`${a}/`))));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(keySet, fc.nat(), fc.constantFrom('', 'a', 'b/', '0'), async (ks, pick, sub) => {
        const base = `prop-${run++}/`;
        await Promise.all(ks.map((k) => store.put(base + k, text(k))));
        const expected = ks.map((k) => base + k).sort(compareKeys);
        const prefix = base + sub;
        const startAfter = expected[pick % expected.length] as string;
        try {
          expect(await keysOf(store.list(base))).toEqual(expected);
          expect(await keysOf(store.list(prefix, { startAfter }))).toEqual(
            expected.filter((k) => k.startsWith(prefix) && compareKeys(k, startAfter) > 0),
          );
        } finally {
          expect(await store.deletePrefix(base)).toBe(ks.length);
        }
      }),
      { numRuns: 15 },
    );
  });

  it('streams a multi-megabyte object in chunks, and byte ranges of it', async () => {
    const body = bodyOf(12 * MiB + 123, 1);
    await store.put('big/blob.bin', body);
    expect((await store.head('big/blob.bin')).size).toBe(body.length);

    const { bytes, chunks } = await drain(await store.read('big/blob.bin'));
    expect(chunks).toBeGreaterThan(1);
    expect(bytes.length).toBe(body.length);
    expect(sha256(bytes)).toBe(sha256(body));

    const range = await drain(await store.readRange('big/blob.bin', 5 * MiB - 7, 5 * MiB + 1000));
    expect(range.bytes.equals(body.subarray(5 * MiB - 7, 5 * MiB + 1000))).toBe(true);
    const tail = await drain(await store.readRange('big/blob.bin', body.length - 10));
    expect(tail.bytes.equals(body.subarray(body.length - 10))).toBe(true);
    expect((await drain(await store.readRange('big/blob.bin', 100, 100))).bytes.length).toBe(0);
    expect((await drain(await store.readRange('big/blob.bin', body.length + 5))).bytes.length).toBe(0);
    await expect(store.readRange('big/blob.bin', 10, 5)).rejects.toThrow(/invalid byte range/);
  });

  it('uploads a stream larger than the multipart part size', async () => {
    const body = bodyOf(2 * MIN_PART_SIZE + 3 * MiB, 2);
    await store.put('big/streamed.bin', chunked(body), { contentType: 'application/octet-stream' });
    expect((await store.head('big/streamed.bin')).size).toBe(body.length);
    expect(sha256(await store.getBytes('big/streamed.bin'))).toBe(sha256(body));
  });

  it('replaces objects atomically: readers see the old or the new bytes, never a mix', async () => {
    const size = 2 * MiB;
    const versions = [0, 1, 2, 3, 4].map((v) => bodyOf(size, 100 + v));
    const known = new Set(versions.map(sha256));
    await store.put('atomic/object', versions[0] as Buffer);

    let writing = true;
    const reader = (async () => {
      const seen: string[] = [];
      while (writing) seen.push(sha256(await store.getBytes('atomic/object')));
      return seen;
    })();
    for (const [i, version] of versions.entries()) {
      if (i > 0) await store.put('atomic/object', i % 2 === 0 ? version : chunked(version));
    }
    writing = false;
    const seen = await reader;
    expect(seen.length).toBeGreaterThan(0);
    for (const digest of seen) expect(known.has(digest)).toBe(true);
    expect(sha256(await store.getBytes('atomic/object'))).toBe(sha256(versions[4] as Buffer));
  });

  it('keeps the old object when a streamed write fails midway, and leaves nothing behind', async () => {
    const original = text('the original');
    await store.put('failing/object', original);
    const body = bodyOf(MIN_PART_SIZE + 3 * MiB, 3);
    await expect(store.put('failing/object', chunked(body, MIN_PART_SIZE + MiB))).rejects.toThrow(StorageError);
    expect((await store.getBytes('failing/object')).equals(original)).toBe(true);
    await expect(store.put('failing/new', chunked(body, 2 * MiB))).rejects.toThrow(/failing\/new/);
    await expect(store.head('failing/new')).rejects.toThrow(NotFoundError);
    expect(await keysOf(store.list('failing/'))).toEqual(['failing/object']);
  });

  it('never shows a write in progress', async () => {
    await store.put('inflight/object', text('v1'));
    const source = new PassThrough();
    const writing = store.put('inflight/object', source);
    source.write(bodyOf(MIN_PART_SIZE + MiB, 4));
    await sleep(300); // let the first part go out
    expect(await keysOf(store.list('inflight/'))).toEqual(['inflight/object']);
    expect((await store.getBytes('inflight/object')).toString()).toBe('v1');
    source.end(text('tail'));
    await writing;
    expect((await store.head('inflight/object')).size).toBe(MIN_PART_SIZE + MiB + 4);
  });

  it('lets exactly one of several racing putIfAbsent callers create the object', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `locks/run-${round}`;
      const bodies = Array.from({ length: round === 0 ? 2 : 6 }, (_, i) => text(`owner-${i}`));
      const results = await Promise.all(bodies.map((body) => store.putIfAbsent(key, body)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await store.getBytes(key)).toString()).toBe(`owner-${winner}`);
      expect(await store.putIfAbsent(key, text('late'))).toBe(false);
      expect((await store.getBytes(key)).toString()).toBe(`owner-${winner}`);
    }
    await store.delete('locks/run-0');
    expect(await store.putIfAbsent('locks/run-0', text('again'))).toBe(true);
    expect(await keysOf(store.list('locks/'))).toEqual(['locks/run-0', 'locks/run-1', 'locks/run-2', 'locks/run-3', 'locks/run-4']);
  });

  it('deletes objects and prefixes; deleting an absent key is fine', async () => {
    await Promise.all(['del/a', 'del/b/c', 'del/b/d', 'del-keep', 'delx/e'].map((k) => store.put(k, text(k))));
    await store.delete('del/a');
    await expect(store.head('del/a')).rejects.toThrow(NotFoundError);
    await store.delete('del/a');
    await store.delete('del/never-existed');
    expect(await store.deletePrefix('del/')).toBe(2);
    expect(await keysOf(store.list('del'))).toEqual(['del-keep', 'delx/e']);
    expect(await store.deletePrefix('del/')).toBe(0);
    expect(await store.deletePrefix('delx/')).toBe(1);
    // A deleted "directory" can be an object again.
    await store.put('del/b', text('now a file'));
    expect((await store.getBytes('del/b')).toString()).toBe('now a file');
  });

  it('reports a missing key as NotFoundError naming the key and the store', async () => {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['head', () => store.head('missing/key.csv')],
      ['read', () => store.read('missing/key.csv')],
      ['readRange', () => store.readRange('missing/key.csv', 0, 10)],
      ['readRange empty', () => store.readRange('missing/key.csv', 3, 3)],
      ['getBytes', () => store.getBytes('missing/key.csv')],
    ];
    for (const [, call] of calls) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).key).toBe('missing/key.csv');
      expect((err as NotFoundError).message).toContain('missing/key.csv');
      expect((err as NotFoundError).message).toContain(store.url);
    }
    // A "directory" is not an object either.
    await store.put('missing/dir/file', text('x'));
    await expect(store.head('missing/dir')).rejects.toThrow(NotFoundError);
  });
});

describe('FileSystemStore', () => {
  let parent: string;
  let store: FileSystemStore;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'pulse-fs-store-'));
    store = new FileSystemStore(join(parent, 'root'));
    await store.put('inside.txt', text('inside'));
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  const hostile = ['../escape.txt', 'a/../../escape.txt', '/etc/passwd', '', 'a//b', 'a/', './a', 'a/./b', 'a\\..\\b', 'nul\0byte', '.pulse-tmp-1234', 'x'.repeat(256)];

  it.each(hostile.map((k) => [JSON.stringify(k), k]))('refuses the key %s for every operation', async (_label, key) => {
    const ops: Array<() => Promise<unknown>> = [
      () => store.put(key, text('evil')),
      () => store.putIfAbsent(key, text('evil')),
      () => store.getBytes(key),
      () => store.read(key),
      () => store.head(key),
      () => store.delete(key),
    ];
    for (const op of ops) await expect(op()).rejects.toThrow(InvalidKeyError);
    expect((await readdir(parent)).sort()).toEqual(['root']);
  });

  it('lists in UTF-8 byte order, as AWS S3 does, also beyond the BMP', async () => {
    // U+1F600 (UTF-8 F0…) sorts after U+FF21 (UTF-8 EF…); in UTF-16 order it
    // would come first (a surrogate, D83D…). S3Proxy sorts the UTF-16 way,
    // so this is checked on the directory store only.
    await store.put('order/\u{1f600}.csv', text('emoji'));
    await store.put('order/\uff21.csv', text('fullwidth A'));
    expect(await keysOf(store.list('order/'))).toEqual(['order/\uff21.csv', 'order/\u{1f600}.csv']);
    expect(await keysOf(store.list('order/', { startAfter: 'order/\uff21.csv' }))).toEqual(['order/\u{1f600}.csv']);
  });

  it('never maps an accepted key outside its root (property)', async () => {
    const hostileKey = fc
      .array(fc.constantFrom('a', 'b', '.', '..', '/', '\\', '~', '%2e', '\0', ' '), { maxLength: 8 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(hostileKey, async (key) => {
        const outcome = await store.head(key).then(
          () => 'found',
          (e: unknown) => e,
        );
        if (outcome instanceof InvalidKeyError) return;
        expect(outcome === 'found' || outcome instanceof NotFoundError).toBe(true);
        expect(resolve(store.root, ...key.split('/')).startsWith(store.root + sep)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses list prefixes that leave the root', async () => {
    await expect(keysOf(store.list('../'))).rejects.toThrow(InvalidKeyError);
    await expect(keysOf(store.list('a/../../'))).rejects.toThrow(InvalidKeyError);
    await expect(keysOf(store.list('/etc/'))).rejects.toThrow(InvalidKeyError);
  });

  it('lists nothing from a root that does not exist yet', async () => {
    expect(await keysOf(new FileSystemStore(join(parent, 'absent')).list(''))).toEqual([]);
  });

  it('lists files dropped into the tree, but never in-flight temp files', async () => {
    await mkdir(join(parent, 'root', 'dropped'));
    await writeFile(join(parent, 'root', 'dropped', '.pulse-tmp-leftover'), 'partial');
    await writeFile(join(parent, 'root', 'dropped', 'in.csv'), 'a,b\n');
    expect(await keysOf(store.list('dropped/'))).toEqual(['dropped/in.csv']);
    expect((await store.getBytes('dropped/in.csv')).toString()).toBe('a,b\n');
  });

  it('cannot hold both a and a/b, and says so', async () => {
    await store.put('clash', text('file'));
    await expect(store.put('clash/child', text('x'))).rejects.toThrow(/cannot hold both/);
    await store.put('tree/leaf', text('x'));
    await expect(store.put('tree', text('x'))).rejects.toThrow(/cannot hold both/);
    await expect(store.putIfAbsent('tree', text('x'))).rejects.toThrow(/cannot hold both/);
  });
});

describe('S3Store', () => {
  let bucket: TestBucket;

  beforeAll(async () => {
    bucket = await createTestBucket('s3-store');
  });
  afterAll(async () => {
    await bucket.remove();
  });

  it('uploads streams and large buffers as multipart uploads of the configured part size', async () => {
    const store = openStore(`s3://${bucket.name}`, { partSize: MIN_PART_SIZE });
    const body = bodyOf(2 * MIN_PART_SIZE + MiB, 5);
    await store.put('multipart-stream', chunked(body));
    await store.put('multipart-buffer', body);
    await store.put('single-buffer', body.subarray(0, MIN_PART_SIZE));
    // S3 ETags of multipart objects end in -<part count>.
    expect((await store.head('multipart-stream')).etag).toMatch(/-3$/);
    expect((await store.head('multipart-buffer')).etag).toMatch(/-3$/);
    expect((await store.head('single-buffer')).etag).toMatch(/^[0-9a-f]{32}$/);
    expect((await store.head('single-buffer')).etag).toBe(createHash('md5').update(body.subarray(0, MIN_PART_SIZE)).digest('hex'));
  });

  it('sees only its own keys when rooted at a prefix', async () => {
    const whole = openStore(`s3://${bucket.name}`);
    const rooted = openStore(`s3://${bucket.name}/tenant-a/`);
    await whole.put('tenant-a/x', text('a'));
    await whole.put('tenant-b/x', text('b'));
    expect(await keysOf(rooted.list(''))).toEqual(['x']);
    expect((await rooted.getBytes('x')).toString()).toBe('a');
    expect(rooted.url).toBe(`s3://${bucket.name}/tenant-a/`);
  });

  it('names the key and keeps the cause when the bucket is missing', async () => {
    const store = openStore(`s3://${bucket.name}-absent/data`);
    const err = await store.getBytes('some/key').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect((err as StorageError).message).toMatch(/some\/key.*NoSuchBucket/);
    expect((err as StorageError).cause).toBeDefined();
    await expect(keysOf(store.list(''))).rejects.toThrow(/NoSuchBucket/);
  });

  it('fails with the cause after its retries when the server is unreachable', async () => {
    const store = openStore(`s3://${bucket.name}`, { endpoint: 'http://127.0.0.1:9', maxAttempts: 2 });
    await expect(store.getBytes('k')).rejects.toThrow(/cannot read 'k'.*ECONNREFUSED/);
  });

  it('stores the content type with single and multipart writes', async () => {
    const store = openStore(`s3://${bucket.name}/typed`, { partSize: MIN_PART_SIZE });
    await store.put('small.csv', text('a,b\n1,2\n'), { contentType: 'text/csv' });
    await store.put('large.ndjson', chunked(bodyOf(MIN_PART_SIZE + MiB, 6)), { contentType: 'application/x-ndjson' });
    expect(await store.putIfAbsent('claim.json', text('{}'), { contentType: 'application/json' })).toBe(true);
    const client = testS3Client();
    const typeOf = async (key: string) => (await client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: `typed/${key}` }))).ContentType;
    expect(await typeOf('small.csv')).toBe('text/csv');
    expect(await typeOf('large.ndjson')).toBe('application/x-ndjson');
    expect(await typeOf('claim.json')).toBe('application/json');
    client.destroy();
  });

  it('rejects part sizes below the S3 minimum', () => {
    expect(() => openStore(`s3://${bucket.name}`, { partSize: MiB })).toThrow(/at least/);
  });
});

describe('openStore', () => {
  it('opens directories from file URLs, absolute and relative paths', () => {
    const abs = join(tmpdir(), 'pulse a');
    expect(openStore(pathToFileURL(abs).href)).toBeInstanceOf(FileSystemStore);
    expect((openStore(pathToFileURL(abs).href) as FileSystemStore).root).toBe(abs);
    expect((openStore(abs) as FileSystemStore).root).toBe(abs);
    expect((openStore('data/lake', { cwd: '/srv/pulse' }) as FileSystemStore).root).toBe('/srv/pulse/data/lake');
    expect(openStore(abs).url).toBe(pathToFileURL(abs).href);
  });

  it('opens S3 buckets with an optional prefix', () => {
    const store = openStore('s3://lake/raw/events', { env: {} });
    expect(store).toBeInstanceOf(S3Store);
    expect((store as S3Store).bucket).toBe('lake');
    expect((store as S3Store).prefix).toBe('raw/events/');
    expect(store.url).toBe('s3://lake/raw/events/');
    expect(openStore('s3://lake', { env: {} }).url).toBe('s3://lake/');
  });

  it('refuses URIs it cannot serve', () => {
    expect(() => openStore('s3://')).toThrow(/names no bucket/);
    expect(() => openStore('gs://bucket/x')).toThrow(/unsupported storage URI/);
    expect(() => openStore('')).toThrow(/empty/);
  });
});
