import type { FileInput } from './file-entries.js';

/**
 * A `file_urls` list kept as the bytes of the request it came in, so a 100,000-URL intake holds
 * one buffer and an index instead of 100,000 strings, and each home batch's packed inputs (`f`,
 * store/file-entries.ts) are a copy of its stretch of the body rather than a JSON string made
 * again from parsed values (docs/architecture.md, "Intake").
 *
 * Only a list in compact form is kept so: `["u1","u2",…]`, no whitespace, each URL plain
 * printable ASCII with nothing in it to escape. Its bytes between two items are then
 * exactly what JSON.stringify makes of those URLs, so what is stored does not depend on the path
 * the list took. `scanJobBody` (apps/api) builds these; every other list is parsed as usual.
 */
export class UrlListBytes {
  /**
   * @param bytes the request body (or any buffer holding the list)
   * @param starts offset of each item's opening quote, then one more entry: the offset just past
   *   the last item's closing quote plus one (where the next comma or the `]` is, plus one), so
   *   item i is `bytes[starts[i], starts[i+1] - 1)`
   */
  constructor(
    private readonly bytes: Buffer,
    private readonly starts: Int32Array,
  ) {
    if (starts.length < 2) throw new Error('a URL list holds at least one item');
  }

  get length(): number {
    return this.starts.length - 1;
  }

  /** The URL at `index`. */
  url(index: number): string {
    if (index < 0 || index >= this.length) throw new RangeError(`no URL at ${index} of ${this.length}`);
    // Printable ASCII only, so latin1 reads it as it was sent.
    return this.bytes.toString('latin1', this.starts[index]! + 1, this.starts[index + 1]! - 2);
  }

  /** The JSON array of the URLs in [from, to), as bytes: `JSON.stringify` of them, without making the strings. */
  packed(from: number, to: number): Buffer {
    if (from < 0 || to > this.length || from >= to) throw new RangeError(`no URLs [${from}, ${to}) of ${this.length}`);
    const start = this.starts[from]!;
    const end = this.starts[to]! - 1;
    const out = Buffer.allocUnsafe(end - start + 2);
    out[0] = 0x5b; // [
    this.bytes.copy(out, 1, start, end);
    out[out.length - 1] = 0x5d; // ]
    return out;
  }

  /** Every URL as a file input, for the paths that need them one by one (reuse, an Idempotency-Key's fingerprint). */
  toFiles(): Array<{ url: string }> {
    return Array.from({ length: this.length }, (_, i) => ({ url: this.url(i) }));
  }

  /** A JobRequest holding this list fingerprints (JSON.stringify) as one holding the same URLs as file inputs. */
  toJSON(): Array<{ url: string }> {
    return this.toFiles();
  }
}

/** A job's files: file inputs, or a URL list still in the bytes it arrived in. */
export type JobFiles = readonly FileInput[] | UrlListBytes;

/** The files one by one (a UrlListBytes is turned into file inputs). */
export function fileInputs(files: JobFiles): readonly FileInput[] {
  return files instanceof UrlListBytes ? files.toFiles() : files;
}
