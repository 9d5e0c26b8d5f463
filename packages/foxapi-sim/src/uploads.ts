import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Uploaded files expire 72 h after their upload. */
export const UPLOAD_LIFETIME_MS = 72 * 60 * 60 * 1000;

export interface StoredUpload {
  readonly id: string;
  readonly filename: string;
  readonly size: number;
  readonly createdAt: number;
  readonly path: string;
}

/** Bytes received into a temporary file, not yet counted against the capacity. */
export interface ReceivedBytes {
  readonly path: string;
  readonly size: number;
  /** More bytes came than the limit allowed; the file holds only the first `limit`. */
  readonly truncated: boolean;
}

export type CommitResult = { ok: true; upload: StoredUpload } | { ok: false; reason: 'storage-full' };

/**
 * Uploaded files on disk in one temporary directory, oldest first. Bytes are streamed to disk,
 * never held in memory. The capacity is enforced when an upload is committed: with
 * `autoCleanup` the earliest uploads are evicted to make room, without it a full store refuses.
 */
export class UploadStore {
  private readonly files = new Map<string, StoredUpload>();
  private dir: Promise<string> | undefined;
  private used = 0;

  constructor(private readonly now: () => number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Streams `source` to a new temporary file, stopping after `limit` bytes. */
  async receive(source: Readable, limit: number): Promise<ReceivedBytes> {
    // The source may fail before the pipeline below listens; the pipeline still sees the error.
    source.on('error', () => undefined);
    const path = join(await this.directory(), `incoming-${randomBytes(8).toString('hex')}`);
    let size = 0;
    let truncated = false;
    try {
      await pipeline(
        source,
        async function* cap(chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            if (truncated) continue;
            if (size + chunk.length > limit) {
              truncated = true;
              // Keep draining the source so the request completes; write nothing more.
              continue;
            }
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(path),
      );
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw err;
    }
    return { path, size, truncated };
  }

  /** Writes a buffer already in memory (base64 uploads) to a temporary file. */
  async receiveBuffer(bytes: Buffer): Promise<ReceivedBytes> {
    return this.receive(Readable.from([bytes]), bytes.length);
  }

  async discard(received: ReceivedBytes): Promise<void> {
    await unlink(received.path).catch(() => undefined);
  }

  /** Counts `received` against `capacity` and makes it an upload, or refuses and deletes it. */
  async commit(received: ReceivedBytes, filename: string, capacity: number, autoCleanup: boolean): Promise<CommitResult> {
    this.dropExpired();
    const fits = (): boolean => this.used + received.size <= capacity;
    if (received.truncated || received.size > capacity || (!fits() && !autoCleanup)) {
      await this.discard(received);
      return { ok: false, reason: 'storage-full' };
    }
    while (!fits()) {
      const oldest = this.files.values().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
    const upload: StoredUpload = {
      id: `file-${randomBytes(12).toString('hex')}`,
      filename,
      size: received.size,
      createdAt: this.now(),
      path: received.path,
    };
    this.files.set(upload.id, upload);
    this.used += upload.size;
    return { ok: true, upload };
  }

  /** The upload while it lives; an expired one is deleted on the way. */
  get(id: string): StoredUpload | undefined {
    const upload = this.files.get(id);
    if (upload === undefined) return undefined;
    if (this.now() >= upload.createdAt + UPLOAD_LIFETIME_MS) {
      this.remove(upload);
      return undefined;
    }
    return upload;
  }

  /** Deletes every upload; the directory stays for the next ones. */
  clear(): void {
    for (const upload of [...this.files.values()]) this.remove(upload);
  }

  /** Deletes every upload and the directory itself. */
  async dispose(): Promise<void> {
    this.files.clear();
    this.used = 0;
    const dir = this.dir;
    this.dir = undefined;
    if (dir !== undefined) await rm(await dir, { recursive: true, force: true });
  }

  private dropExpired(): void {
    const now = this.now();
    for (const upload of [...this.files.values()]) {
      if (now >= upload.createdAt + UPLOAD_LIFETIME_MS) this.remove(upload);
    }
  }

  private remove(upload: StoredUpload): void {
    if (!this.files.delete(upload.id)) return;
    this.used -= upload.size;
    // A download of it may still be streaming; on POSIX the open file outlives the unlink.
    void unlink(upload.path).catch(() => undefined);
  }

  private directory(): Promise<string> {
    this.dir ??= mkdtemp(join(tmpdir(), 'foxapi-sim-uploads-'));
    return this.dir;
  }
}
