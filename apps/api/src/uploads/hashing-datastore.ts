import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSHA256, type IHasher } from 'hash-wasm';
import type { Logger } from 'pino';
import { DataStore, type Upload } from '@tus/utils';
import type { UploadStore } from '@batchscribe/shared';
import type { UploadNaming } from './upload-naming.js';

/**
 * The tus store of BLOB_STORE, with the upload's SHA-256 computed as its bytes stream in
 * (docs/architecture.md, "Uploads: hashing"). Node's own hash cannot be saved half way, so the
 * hasher is hash-wasm's, whose state is saved in the upload's record after every write,
 * together with the offset it covers. A write continues that state only when it starts at
 * exactly that offset; any doubt (a write that failed half way, an api that died between the
 * store's write and the state's, a state from another hash-wasm build) drops the state, and the
 * hash is then computed once from the stored file when its last byte arrives. So the hash is
 * always of the bytes the store holds, whatever happened between the PATCHes.
 *
 * Writes of one upload are serialized by the tus lock (upload-locker.ts), so the state read at
 * the start of a write is still the one to continue at its end.
 */
/** How often a running write reports how far it has come. */
const PROGRESS_EVERY_MS = 1_000;

export class HashingDataStore extends DataStore {
  constructor(
    private readonly inner: DataStore,
    private readonly uploads: UploadStore,
    private readonly naming: UploadNaming,
    private readonly logger: Logger,
  ) {
    super();
    // A deferred length is not offered: the size is checked (UPLOAD_MAX_BYTES) and recorded at creation.
    this.extensions = inner.extensions.filter((e) => e !== 'creation-defer-length');
  }

  override create(file: Upload): Promise<Upload> {
    return this.inner.create(file);
  }

  override remove(id: string): Promise<void> {
    return this.inner.remove(id);
  }

  /**
   * tus asks for the upload under its lock (HEAD, PATCH). An api that died after the store took
   * an upload's last byte and before its record said `ready` (the hash from the store, when no
   * state covered every byte, runs in between: seconds for a large file) leaves every byte
   * stored and the record `uploading`. The client's next HEAD then reports it complete, so no
   * PATCH will come to finish it, and no job could name it: it is finished here instead.
   */
  override async getUpload(id: string): Promise<Upload> {
    const upload = await this.inner.getUpload(id);
    if (upload.size !== undefined && upload.offset === upload.size) {
      const uploadId = this.naming.uploadIdOf(id);
      const record = await this.uploads.get(uploadId);
      if (record && record.state !== 'ready' && !record.deleting && record.size === upload.offset) {
        this.logger.info({ uploadId }, 'every byte stored but the upload not recorded ready (an api died before it was): finishing it');
        await this.uploads.markReady(uploadId, upload.offset, await this.hashStored(id, uploadId));
      }
    }
    return upload;
  }

  override declareUploadLength(id: string, length: number): Promise<void> {
    return this.inner.declareUploadLength(id, length);
  }

  override getExpiration(): number {
    return this.inner.getExpiration();
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const uploadId = this.naming.uploadIdOf(id);
    const record = await this.uploads.get(uploadId);
    if (!record) return this.inner.write(stream, id, offset);
    const hasher = await this.continueHash(uploadId, offset);
    let hashed = 0;
    let reportedAt = Date.now();
    const tap = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        hasher?.update(chunk);
        hashed += chunk.length;
        // `received` for GET /v1/uploads/{id} while one long PATCH runs; the exact figure is written below.
        if (Date.now() - reportedAt >= PROGRESS_EVERY_MS) {
          reportedAt = Date.now();
          this.uploads.saveReceived(uploadId, offset + hashed).catch(() => undefined);
        }
        done(null, chunk);
      },
    });
    // pipe() does not pass errors on: a failed source must fail the store's write, not hang it.
    const onError = (err: Error) => tap.destroy(err);
    stream.once('error', onError);
    let newOffset: number;
    try {
      // The store reads from the tap, so what it reads is what was hashed, in order.
      newOffset = await this.inner.write(stream.pipe(tap), id, offset);
    } finally {
      stream.off('error', onError);
      stream.unpipe(tap);
    }
    const covered = hasher !== null && hashed === newOffset - offset;
    if (newOffset === record.size) {
      const sha256 = covered ? hasher.digest('hex') : await this.hashStored(id, uploadId);
      await this.uploads.markReady(uploadId, newOffset, sha256);
    } else {
      await this.uploads.saveProgress(uploadId, newOffset, covered ? { offset: newOffset, state: Buffer.from(hasher.save()) } : null);
    }
    return newOffset;
  }

  /** A hasher that has seen exactly the bytes before `offset`, or null when none can be had. */
  private async continueHash(uploadId: string, offset: number): Promise<IHasher | null> {
    const hasher = await createSHA256();
    if (offset === 0) return hasher.init();
    const saved = await this.uploads.hashProgress(uploadId);
    if (!saved || saved.offset !== offset) return null;
    try {
      return hasher.load(saved.state);
    } catch (err) {
      this.logger.warn(
        { uploadId, err: (err as Error).message },
        'saved hash state unusable; the upload is hashed from the store at the end',
      );
      return null;
    }
  }

  /** The fallback: one pass over the stored file, streamed. */
  private async hashStored(id: string, uploadId: string): Promise<string> {
    this.logger.info({ uploadId }, 'hashing the stored upload (no hash state covered every byte)');
    const read = (this.inner as DataStore & { read?(id: string): Readable | Promise<Readable> }).read;
    if (typeof read !== 'function') throw new Error('the upload store cannot read an upload back');
    const source = await read.call(this.inner, id);
    const hasher = (await createSHA256()).init();
    await pipeline(source, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) hasher.update(chunk);
    });
    return hasher.digest('hex');
  }
}
