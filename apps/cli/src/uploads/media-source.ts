import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { DiskFile } from '../sources/folder.js';
import { ZipArchive, type ZipEntryFile } from '../sources/zip-archive.js';

/** Something to upload: a file on disk, or an entry of a zip archive. */
export type MediaFile = DiskFile | ZipEntryFile;

/**
 * One chunk as tus-js-client sends it: a Readable (piped into the PATCH) or a Buffer, with
 * `size` set — the client reads the chunk's length from `size` and sets Content-Length from it.
 */
type Chunk = (Readable | Buffer) & { size: number };

/** tus-js-client's FileSource: `slice(start, end)` for each PATCH, `close()` when done. */
export interface MediaSource {
  size: number;
  slice(start: number, end: number): Promise<{ value: Chunk; done: boolean }>;
  close(): void;
}

/**
 * The source tus-js-client reads a file from. It may ask for any offset: the server's, when an
 * upload resumes (after a kill, at a byte in the middle), or an earlier one, when a chunk is
 * retried or an expired upload starts over. Files on disk and stored zip entries are read
 * straight from that offset, a fresh stream per chunk, nothing buffered. A deflated zip entry
 * can only be inflated from its start: its stream is read forward, skipping to the offset, and
 * opened again when asked for an offset behind it; one chunk is held in memory (the last, so a
 * retry of it needs no re-read).
 */
export function openMediaSource(file: MediaFile): MediaSource {
  if (file.kind === 'disk') return new RangeSource(file.size, async (start, end) => createReadStream(file.path, { start, end: end - 1 }));
  if (ZipArchive.canSeek(file.entry)) return new RangeSource(file.size, (start, end) => file.archive.openRange(file.entry, start, end));
  return new InflatingSource(file.size, () => file.archive.open(file.entry));
}

class RangeSource implements MediaSource {
  private current: Readable | undefined;

  constructor(
    readonly size: number,
    private readonly openRange: (start: number, end: number) => Promise<Readable>,
  ) {}

  async slice(start: number, end: number): Promise<{ value: Chunk; done: boolean }> {
    end = Math.min(end, this.size);
    // A chunk not read to its end (its PATCH failed) would hold its file descriptor open.
    this.current?.destroy();
    const stream = start < end ? await this.openRange(start, end) : undefined;
    this.current = stream;
    const value = Object.assign(stream ?? Buffer.alloc(0), { size: end - start });
    return { value, done: end >= this.size };
  }

  close(): void {
    this.current?.destroy();
    this.current = undefined;
  }
}

class InflatingSource implements MediaSource {
  private reader: ByteReader | undefined;
  /** Offset of the reader's next byte. */
  private position = 0;
  private last: { start: number; bytes: Buffer } | undefined;

  constructor(
    readonly size: number,
    private readonly openFromStart: () => Promise<Readable>,
  ) {}

  async slice(start: number, end: number): Promise<{ value: Chunk; done: boolean }> {
    end = Math.min(end, this.size);
    const last = this.last;
    let bytes: Buffer;
    if (last && start >= last.start && end <= last.start + last.bytes.length) {
      bytes = last.bytes.subarray(start - last.start, end - last.start);
    } else {
      if (!this.reader || start < this.position) {
        this.reader?.destroy();
        this.reader = new ByteReader(await this.openFromStart());
        this.position = 0;
      }
      const skipped = await this.reader.skip(start - this.position);
      this.position += skipped;
      bytes = await this.reader.read(end - start);
      this.position += bytes.length;
      this.last = { start, bytes };
    }
    // Short of `end` means the entry ended early: done, and tus-js-client reports the size mismatch.
    const value = Object.assign(bytes, { size: bytes.length });
    return { value, done: start + bytes.length >= this.size || bytes.length < end - start };
  }

  close(): void {
    this.reader?.destroy();
    this.reader = undefined;
    this.last = undefined;
  }
}

/** Exact-length reads from a stream, keeping what a read did not need for the next one. */
export class ByteReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;

  constructor(private readonly stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** `n` bytes, or fewer if the stream ends first. */
  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n && (await this.fill())) {
      const part = this.pending.subarray(0, n - have);
      this.pending = this.pending.subarray(part.length);
      parts.push(part);
      have += part.length;
    }
    return Buffer.concat(parts, have);
  }

  /** Discards `n` bytes (fewer if the stream ends first) without holding them; how many it did. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n && (await this.fill())) {
      const take = Math.min(this.pending.length, n - skipped);
      this.pending = this.pending.subarray(take);
      skipped += take;
    }
    return skipped;
  }

  destroy(): void {
    this.stream.destroy();
  }

  /** True when bytes are pending; false at the stream's end. */
  private async fill(): Promise<boolean> {
    while (this.pending.length === 0) {
      if (this.ended) return false;
      const next = await this.chunks.next();
      if (next.done) this.ended = true;
      else this.pending = next.value;
    }
    return true;
  }
}

/**
 * What identifies a file's content for resuming, without reading it: a file on disk by its path,
 * size and modification time (touched or rewritten, it is uploaded anew); a zip entry by the
 * archive's path, the entry's name, CRC-32 and size (the same archive downloaded again still
 * matches).
 */
export function mediaFingerprint(file: MediaFile): string {
  return file.kind === 'disk'
    ? ['disk', file.path, file.size, Math.trunc(file.mtimeMs)].join('\0')
    : ['zip', file.archive.path, file.entry.fileName, file.crc32, file.size].join('\0');
}
