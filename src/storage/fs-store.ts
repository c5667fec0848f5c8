import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { describeCause, InvalidKeyError, NotFoundError, StorageError } from './errors.js';
import { compareKeys, fileKeyProblem, TEMP_PREFIX } from './keys.js';
import type { Body, ListOptions, ObjectInfo, ObjectStore } from './object-store.js';
import { checkRange, emptyStream } from './range.js';

/** How often a write retries when a concurrent delete removed its directory. */
const MAX_DIRECTORY_RACES = 5;

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/**
 * Objects as files under a root directory: key `a/b.csv` is `<root>/a/b.csv`.
 *
 * Writes go to a temp file in the target's directory, are fsynced, then
 * renamed over the target (replace) or hard-linked to it (exclusive create:
 * `link(2)` fails when the name exists, so exactly one racing writer wins and
 * the object appears complete). Directories are created on write and removed
 * when a delete empties them, so the tree mirrors the key space.
 *
 * Two keys where one is a "directory" of the other (`a` and `a/b`) cannot
 * coexist, unlike on S3; writing the second fails with a clear error.
 * Symbolic links are not followed when listing, and content types are not
 * stored (a file has none).
 */
export class FileSystemStore implements ObjectStore {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.url = pathToFileURL(this.root).href;
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    if (prefix.startsWith('/')) throw new InvalidKeyError(this.url, prefix, 'absolute prefixes are not allowed');
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    if (dirKey !== '') this.path(dirKey); // refuses prefixes that leave the root
    yield* this.walk(dirKey, prefix.slice(slash + 1), options.startAfter);
  }

  /**
   * Lists one directory in key order and descends into subdirectories in
   * place. A directory sorts as its name plus `/`, which is exactly where
   * its keys fall among its siblings' keys, so the output is globally sorted
   * without collecting the whole tree.
   */
  private async *walk(dirKey: string, namePrefix: string, startAfter: string | undefined): AsyncIterable<ObjectInfo> {
    const dir = dirKey === '' ? this.root : this.path(dirKey);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.fail(dirKey, 'list', err);
    }
    const children = entries
      .filter((e) => e.name.startsWith(namePrefix) && !e.name.startsWith(TEMP_PREFIX))
      .filter((e) => e.isFile() || e.isDirectory())
      .map((e) => {
        const key = dirKey === '' ? e.name : `${dirKey}/${e.name}`;
        return { key, isDir: e.isDirectory(), sortKey: e.isDirectory() ? `${key}/` : key };
      })
      .sort((a, b) => compareKeys(a.sortKey, b.sortKey));

    for (const child of children) {
      if (child.isDir) {
        // The whole subtree sorts at or before startAfter: skip it unread.
        if (startAfter !== undefined && compareKeys(child.sortKey, startAfter) < 0 && !startAfter.startsWith(child.sortKey)) {
          continue;
        }
        yield* this.walk(child.key, '', startAfter);
        continue;
      }
      if (startAfter !== undefined && compareKeys(child.key, startAfter) <= 0) continue;
      const info = await this.stat(child.key).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined; // deleted while listing
        throw err;
      });
      if (info) yield info;
    }
  }

  head(key: string): Promise<ObjectInfo> {
    return this.stat(key);
  }

  async read(key: string): Promise<Readable> {
    return this.readRange(key, 0);
  }

  async readRange(key: string, start: number, end?: number): Promise<Readable> {
    checkRange(this.url, key, start, end);
    const handle = await this.openForRead(key);
    if (end === start) {
      await handle.close();
      return emptyStream();
    }
    // createReadStream's `end` is inclusive; ours is exclusive.
    return handle.createReadStream({ start, ...(end === undefined ? {} : { end: end - 1 }) });
  }

  async getBytes(key: string): Promise<Buffer> {
    const handle = await this.openForRead(key);
    try {
      return await handle.readFile();
    } catch (err) {
      throw this.fail(key, 'read', err);
    } finally {
      await handle.close();
    }
  }

  async put(key: string, body: Body): Promise<void> {
    const target = this.path(key);
    const temp = await this.writeTemp(key, target, body);
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      const code = errnoCode(err);
      if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') throw this.conflict(key, err);
      throw this.fail(key, 'write', err);
    }
    await syncDirectory(dirname(target));
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const target = this.path(key);
    const temp = await this.writeTemp(key, target, body);
    try {
      await link(temp, target);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') {
        const existing = await lstat(target).catch(() => undefined);
        if (existing?.isDirectory()) throw this.conflict(key);
        return false;
      }
      throw this.fail(key, 'create', err);
    } finally {
      await rm(temp, { force: true });
    }
    await syncDirectory(dirname(target));
    return true;
  }

  async delete(key: string): Promise<void> {
    const target = this.path(key);
    try {
      await unlink(target);
    } catch (err) {
      const code = errnoCode(err);
      // Absent, or a directory (which is no object): nothing to delete.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      if ((code === 'EISDIR' || code === 'EPERM') && (await isDirectory(target))) return;
      throw this.fail(key, 'delete', err);
    }
    await this.pruneEmptyDirectories(dirname(target));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const keys: string[] = [];
    for await (const info of this.list(prefix)) keys.push(info.key);
    for (const key of keys) await this.delete(key);
    return keys.length;
  }

  /** Maps a key to its file, refusing keys that would leave the root. */
  private path(key: string): string {
    const problem = fileKeyProblem(key);
    if (problem) throw new InvalidKeyError(this.url, key, problem);
    const full = join(this.root, ...key.split('/'));
    if (!full.startsWith(this.root + sep)) throw new InvalidKeyError(this.url, key, 'escapes the store root');
    return full;
  }

  private async stat(key: string): Promise<ObjectInfo> {
    let st;
    try {
      st = await stat(this.path(key), { bigint: true });
    } catch (err) {
      throw this.notFoundOr(key, 'stat', err);
    }
    if (!st.isFile()) throw new NotFoundError(this.url, key);
    return {
      key,
      size: Number(st.size),
      etag: `${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}`,
      lastModified: new Date(Number(st.mtimeMs)),
    };
  }

  /** Opens a file for reading; a directory or a missing file is NotFound. */
  private async openForRead(key: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (err) {
      throw this.notFoundOr(key, 'open', err);
    }
    const st = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw this.fail(key, 'stat', err);
    });
    if (!st.isFile()) {
      await handle.close();
      throw new NotFoundError(this.url, key);
    }
    return handle;
  }

  /**
   * Writes the body to a fresh temp file next to the target and fsyncs it.
   * Retries when a concurrent delete removed the (then empty) directory
   * between our mkdir and open.
   */
  private async writeTemp(key: string, target: string, body: Body): Promise<string> {
    const dir = dirname(target);
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOTDIR' || code === 'EEXIST') throw this.conflict(key, err);
        throw this.fail(key, 'write', err);
      }
      const temp = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
      let handle: FileHandle;
      try {
        handle = await open(temp, 'wx');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' && attempt < MAX_DIRECTORY_RACES) continue;
        throw this.fail(key, 'write', err);
      }
      try {
        if (Buffer.isBuffer(body)) {
          await handle.writeFile(body);
        } else {
          for await (const chunk of body) {
            await handle.write(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array));
          }
        }
        await handle.sync();
        await handle.close();
      } catch (err) {
        await handle.close().catch(() => {});
        await rm(temp, { force: true });
        throw this.fail(key, 'write', err);
      }
      return temp;
    }
  }

  /** Removes directories a delete left empty, up to (not including) the root. */
  private async pruneEmptyDirectories(dir: string): Promise<void> {
    while (dir.startsWith(this.root + sep)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): stop climbing
      }
      dir = dirname(dir);
    }
  }

  private notFoundOr(key: string, op: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return new NotFoundError(this.url, key, { cause: err });
    return this.fail(key, op, err);
  }

  private fail(key: string, op: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    return new StorageError(this.url, key, `cannot ${op} '${key}': ${describeCause(err)}`, { cause: err });
  }

  private conflict(key: string, cause?: unknown): StorageError {
    return new StorageError(
      this.url,
      key,
      `cannot write '${key}': a directory of the filesystem store holds other keys under that name, or a parent of it is an object (a file tree cannot hold both 'a' and 'a/b')`,
      { cause },
    );
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Makes a rename or link in `dir` durable (the directory entry itself). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
