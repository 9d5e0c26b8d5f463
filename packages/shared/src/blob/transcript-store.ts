import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { brotliCompress, constants, createBrotliDecompress } from 'node:zlib';
import type { BlobStore } from './blob-store.js';

const compress = promisify(brotliCompress);

/*
 * Quality 5 in text mode: an hour-long transcript (~0.8 MB of JSON) goes to ~100 KB in ~15 ms.
 * The asynchronous call runs on libuv's thread pool, so the worker's event loop keeps serving
 * lock renewals and polls while documents compress.
 */
const BROTLI = { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT };

/**
 * Transcripts in the blob store, one object per file: `<namespace>/jobs/<job id>/tx/<index>.json.br`,
 * brotli of the upstream JSON exactly as received. The key follows from job id and index, so Redis
 * stores no pointer; a replayed download overwrites the same object with the same bytes.
 * `namespace` is QUEUE_PREFIX, so deployments sharing a bucket or volume never touch each other.
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

  transcriptKey(jobId: string, index: number): string {
    return `${this.jobPrefix(jobId)}tx/${index}.json.br`;
  }

  private taskKey(jobId: string, batch: number): string {
    return `${this.jobPrefix(jobId)}tasks/${batch}.json.br`;
  }

  /** Stores one file's upstream JSON (the bytes as received); returns the stored size. */
  async put(jobId: string, index: number, raw: Buffer): Promise<number> {
    const packed = await compress(raw, { params: { ...BROTLI, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    await this.blobs.put(this.transcriptKey(jobId, index), packed, { contentType: 'application/json' });
    return packed.length;
  }

  /** The upstream JSON of one file as a byte stream, decompressed as it is read; null if none is stored. */
  async open(jobId: string, index: number): Promise<Readable | null> {
    return this.openPacked(this.transcriptKey(jobId, index));
  }

  /** The upstream JSON of one file, whole (one document at a time: an hour is ~0.8 MB). */
  async readText(jobId: string, index: number): Promise<string | null> {
    const stream = await this.open(jobId, index);
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

  /** File indexes of the job that have a transcript stored (for checks and repairs). */
  async storedIndexes(jobId: string): Promise<number[]> {
    const prefix = `${this.jobPrefix(jobId)}tx/`;
    const indexes: number[] = [];
    for await (const entry of this.blobs.list(prefix)) {
      const index = Number(entry.key.slice(prefix.length).replace(/\.json\.br$/, ''));
      if (Number.isInteger(index)) indexes.push(index);
    }
    return indexes.sort((a, b) => a - b);
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
