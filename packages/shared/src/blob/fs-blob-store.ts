import { randomBytes } from 'node:crypto';
import type { Dir, Stats } from 'node:fs';
import { mkdir, open, opendir, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { assertBlobKey, assertBlobPrefix, assertChildPrefix, BLOB_TMP_PREFIX } from './blob-key.js';
import type { BlobEntry, BlobStore } from './blob-store.js';

/**
 * Objects are files under `root`, a key's segments its sub-directories. One machine, or a
 * volume every api and worker process mounts at the same place.
 *
 * A key cannot be both an object and the parent of others here (`a/b` and `a/b/c`): the
 * callers' key layout never does that.
 */
export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * A temporary file in the target's directory (so the rename never crosses a file system),
   * fsynced before the rename, so a reader or a crash sees the old object or the whole new one.
   */
  async put(key: string, body: Buffer | Readable): Promise<void> {
    const target = this.pathOf(key);
    const { handle, path: tmp } = await this.openTemp(dirname(target));
    try {
      try {
        if (Buffer.isBuffer(body)) await handle.writeFile(body);
        // Not handle.createWriteStream: with autoClose off it keeps the handle referenced and close() never settles.
        else for await (const chunk of body) await writeAll(handle, chunk as Buffer | string);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Readable | null> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      return null;
    }
    return handle.createReadStream();
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const s = await statIfThere(this.pathOf(key));
    return s?.isFile() ? { size: s.size } : null;
  }

  async delete(key: string): Promise<void> {
    await this.unlinkIfThere(this.pathOf(key));
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    let deleted = 0;
    const dirs = new Set<string>();
    for await (const entry of this.list(prefix)) {
      const path = this.pathOf(entry.key);
      if (await this.unlinkIfThere(path)) deleted += 1;
      dirs.add(dirname(path));
    }
    await this.pruneEmptyDirs(dirs);
    return deleted;
  }

  async *list(prefix: string): AsyncIterable<BlobEntry> {
    assertBlobPrefix(prefix);
    // Only the prefix's own directory can hold matches; walk from there, not from the root.
    yield* this.walk(prefix.slice(0, prefix.lastIndexOf('/') + 1), prefix);
  }

  async *listChildren(prefix: string): AsyncIterable<string> {
    assertChildPrefix(prefix);
    let dir: Dir;
    try {
      dir = await opendir(join(this.root, prefix));
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for await (const entry of dir) if (entry.isDirectory() && !entry.name.startsWith(BLOB_TMP_PREFIX)) yield entry.name;
  }

  async close(): Promise<void> {}

  private async *walk(dirKey: string, prefix: string): AsyncGenerator<BlobEntry> {
    let dir: Dir;
    try {
      dir = await opendir(join(this.root, dirKey));
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for await (const entry of dir) {
      if (entry.name.startsWith(BLOB_TMP_PREFIX)) continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix)) yield* this.walk(`${key}/`, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const s = await statIfThere(join(this.root, key));
        if (s?.isFile()) yield { key, size: s.size, lastModified: s.mtime };
      }
    }
  }

  private pathOf(key: string): string {
    assertBlobKey(key);
    return join(this.root, ...key.split('/'));
  }

  /** `wx` never reuses a name; ENOENT means a deleteByPrefix pruned the directory meanwhile. */
  private async openTemp(dir: string): Promise<{ handle: FileHandle; path: string }> {
    for (let attempt = 1; ; attempt += 1) {
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${BLOB_TMP_PREFIX}${randomBytes(8).toString('hex')}`);
      try {
        return { handle: await open(path, 'wx'), path };
      } catch (err) {
        if (attempt >= 5 || !isMissing(err)) throw err;
      }
    }
  }

  private async unlinkIfThere(path: string): Promise<boolean> {
    try {
      await unlink(path);
      return true;
    } catch (err) {
      if (isMissing(err) || hasCode(err, 'EISDIR') || hasCode(err, 'EPERM')) return false;
      throw err;
    }
  }

  /** Deepest first, each up towards the root until a directory still holds something. */
  private async pruneEmptyDirs(dirs: Set<string>): Promise<void> {
    for (const start of [...dirs].sort((a, b) => b.length - a.length)) {
      for (let dir = start; dir.startsWith(this.root) && dir !== this.root; dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch (err) {
          if (!isMissing(err)) break; // not empty, so neither are its parents
        }
      }
    }
  }
}

/** FileHandle.write may write less than it was given. */
async function writeAll(handle: FileHandle, chunk: Buffer | string): Promise<void> {
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  for (let offset = 0; offset < bytes.length;) {
    offset += (await handle.write(bytes, offset)).bytesWritten;
  }
}

async function statIfThere(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** ENOTDIR: a segment of the key is a file, so the key names nothing. */
function isMissing(err: unknown): boolean {
  return hasCode(err, 'ENOENT') || hasCode(err, 'ENOTDIR');
}
