import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { CliError, describeFsError } from '../errors.js';

/** A media file inside a zip: streamed out of the archive when uploaded, never extracted. */
export interface ZipEntryFile {
  kind: 'zip';
  archive: ZipArchive;
  entry: Entry;
  /** The entry's path inside the archive, forward slashes. */
  ref: string;
  /** Uncompressed; yauzl checks the stream against it, so it is what the upload declares. */
  size: number;
  crc32: number;
}

export interface ZipScan {
  archive: ZipArchive;
  files: ZipEntryFile[];
  skipped: number;
}

/**
 * An open zip archive, read through its central directory: listing it reads no entry's data,
 * and each entry is later streamed on its own, so neither the disk nor the memory ever holds the
 * archive unpacked. The file stays open (one descriptor) until `close()`.
 */
export class ZipArchive {
  private constructor(
    /** Absolute. */
    readonly path: string,
    private readonly zip: ZipFile,
  ) {}

  /**
   * The archive's entries that `select` takes (by path inside the archive), in path order like
   * a folder's. Everything that would fail later fails here, before any upload: not a zip, an
   * entry whose path is absolute or climbs out with `..`, an encrypted entry or a compression
   * method yauzl cannot decode.
   */
  static async scan(path: string, shownAs: string, select: (ref: string) => boolean): Promise<ZipScan> {
    await stat(path).catch((err: unknown) => {
      throw new CliError(`cannot read ${shownAs}: ${describeFsError(err)}`);
    });
    let zip: ZipFile;
    try {
      // decodeStrings (the default) makes yauzl refuse absolute and `..` paths; strictFileNames
      // off turns Windows backslashes into slashes instead of refusing them.
      zip = await yauzl.openPromise(path, { autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
    } catch (err) {
      throw new CliError(`${shownAs} is not a readable zip archive: ${(err as Error).message}`);
    }
    const archive = new ZipArchive(path, zip);
    const files: ZipEntryFile[] = [];
    let skipped = 0;
    try {
      for await (const entry of zip.eachEntry()) {
        if (entry.fileName.endsWith('/')) continue;
        const ref = entry.fileName
          .split('/')
          .filter((s) => s !== '' && s !== '.')
          .join('/');
        if (!select(ref)) {
          skipped++;
          continue;
        }
        if (entry.isEncrypted()) throw new CliError(`${shownAs}: ${ref} is encrypted, which batchscribe cannot read`);
        if (!entry.canDecodeFileData())
          throw new CliError(
            `${shownAs}: ${ref} uses compression method ${entry.compressionMethod}; only stored and deflated entries can be read`,
          );
        files.push({ kind: 'zip', archive, entry, ref, size: entry.uncompressedSize, crc32: entry.crc32 });
      }
    } catch (err) {
      zip.close();
      if (err instanceof CliError) throw err;
      throw new CliError(`${shownAs}: ${(err as Error).message}`);
    }
    files.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
    return { archive, files, skipped };
  }

  /**
   * Whether bytes `start..end` of the entry can be read directly: true for a stored entry (audio
   * and video are usually stored, they do not compress), false for a deflated one, which can only
   * be inflated from its beginning.
   */
  static canSeek(entry: Entry): boolean {
    return entry.compressionMethod === 0 && !entry.isEncrypted();
  }

  /** Bytes `start` (inclusive) to `end` (exclusive) of a stored entry. */
  async openRange(entry: Entry, start: number, end: number): Promise<Readable> {
    return this.zip.openReadStreamPromise(entry, { start, end });
  }

  /** The entry's uncompressed bytes from the beginning, size-checked by yauzl. */
  async open(entry: Entry): Promise<Readable> {
    return this.zip.openReadStreamPromise(entry);
  }

  close(): void {
    if (this.zip.isOpen) this.zip.close();
  }
}
