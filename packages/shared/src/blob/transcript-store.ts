import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { brotliCompress, constants, createBrotliDecompress } from 'node:zlib';
import type { PreparedTranscript } from '../transcript/prepare.js';
import type { BlobStore } from './blob-store.js';

const compress = promisify(brotliCompress);

/** A view of the bytes a worker thread handed back, without copying them. */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const BROTLI = { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT };

/**
 * Transcripts in the blob store, under `<namespace>/jobs/<job id>/`:
 * - `raw/<index>.json.br`: brotli of the upstream JSON exactly as received (`format=raw`);
 * - `tx/<index>.json.br`: brotli of the normalized transcript, made once by the worker, so a
 *   results page or an export streams it into each FileResult without parsing anything.
 * Keys follow from job id and index, so Redis stores no pointer; a replayed download overwrites
 * the same objects with the same bytes. `namespace` is QUEUE_PREFIX, so deployments sharing a
 * bucket or volume never touch each other.
 */
export class TranscriptStore {
  constructor(
    private readonly blobs: BlobStore,
    private readonly namespace: string,
  ) {}

  private jobsRoot(): string {
    return `${this.namespace}/jobs/`;
  }

  private jobPrefix(jobId: string): string {
    return `${this.jobsRoot()}${jobId}/`;
  }

  private normalizedKey(jobId: string, index: number): string {
    return `${this.jobPrefix(jobId)}tx/${index}.json.br`;
  }

  private rawKey(jobId: string, index: number): string {
    return `${this.jobPrefix(jobId)}raw/${index}.json.br`;
  }

  private taskKey(jobId: string, batch: number): string {
    return `${this.jobPrefix(jobId)}tasks/${batch}.json.br`;
  }

  /**
   * Stores one file's documents, both at once (each put waits for its own fsync or upload).
   * Nothing reads them before the file's outcome is recorded, which happens after this returns.
   */
  async put(jobId: string, index: number, prepared: PreparedTranscript): Promise<void> {
    const json = { contentType: 'application/json' };
    await Promise.all([
      this.blobs.put(this.rawKey(jobId, index), asBuffer(prepared.raw), json),
      prepared.normalized === null ? undefined : this.blobs.put(this.normalizedKey(jobId, index), asBuffer(prepared.normalized), json),
    ]);
  }

  /** The upstream JSON of one file as received, decompressed as it is read; null if none is stored. */
  async openRaw(jobId: string, index: number): Promise<Readable | null> {
    return this.openPacked(this.rawKey(jobId, index));
  }

  /** The normalized transcript of one file as JSON text, or null if none is stored. */
  async readNormalized(jobId: string, index: number): Promise<string | null> {
    const stream = await this.openPacked(this.normalizedKey(jobId, index));
    return stream === null ? null : text(stream);
  }

  /** Keeps a task answer that explains failed files (what foxapi sent, for an operator). */
  async putTaskAnswer(jobId: string, batch: number, raw: Buffer): Promise<void> {
    await this.blobs.put(this.taskKey(jobId, batch), await compress(raw, { params: BROTLI }), { contentType: 'application/json' });
  }

  async readTaskAnswer(jobId: string, batch: number): Promise<string | null> {
    const stream = await this.openPacked(this.taskKey(jobId, batch));
    return stream === null ? null : text(stream);
  }

  /** File indexes of the job with a usable (normalized) transcript stored, for checks and repairs. */
  async storedIndexes(jobId: string): Promise<number[]> {
    const prefix = `${this.jobPrefix(jobId)}tx/`;
    const indexes: number[] = [];
    for await (const entry of this.blobs.list(prefix)) {
      const index = Number(entry.key.slice(prefix.length).replace(/\.json\.br$/, ''));
      if (Number.isInteger(index)) indexes.push(index);
    }
    return indexes.sort((a, b) => a - b);
  }

  /** Bytes the job's objects take in the store. */
  async storedBytes(jobId: string): Promise<number> {
    let total = 0;
    for await (const entry of this.blobs.list(this.jobPrefix(jobId))) total += entry.size;
    return total;
  }

  /** Every object of the job; returns how many went. */
  deleteJob(jobId: string): Promise<number> {
    return this.blobs.deleteByPrefix(this.jobPrefix(jobId));
  }

  /** Ids of the jobs that have any object stored, for the retention sweeper. */
  jobIds(): AsyncIterable<string> {
    return this.blobs.listChildren(this.jobsRoot());
  }

  private async openPacked(key: string): Promise<Readable | null> {
    const packed = await this.blobs.get(key);
    if (packed === null) return null;
    const inflate = createBrotliDecompress();
    // A failing source (a vanished object, a broken connection) must fail the reader too.
    packed.once('error', (err) => inflate.destroy(err));
    return packed.pipe(inflate);
  }
}
