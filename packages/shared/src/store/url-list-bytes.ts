import type { FileInput } from './file-entries.js';

/**
 * A URL list kept as the bytes of the request it came in (a compact JSON `file_urls`, or a
 * text/plain list), so a 100,000-URL intake holds one buffer and an index instead of 100,000
 * strings, and each home batch's packed inputs (`f`, store/file-entries.ts) are made by copying
 * bytes rather than by JSON.stringify of parsed values (docs/architecture.md, "Intake").
 *
 * Only lists of plain URLs are kept so: printable ASCII with nothing in them JSON would escape
 * (domain/plain-url.ts; the scans are apps/api/src/jobs/job-body-scan.ts and intake/url-list.ts).
 * `packed` then makes exactly what JSON.stringify makes of those URLs, so what is stored does
 * not depend on the path the list took.
 */
export class UrlListBytes {
  /**
   * @param bytes the request body
   * @param starts offset of each URL's first byte
   * @param ends offset just past each URL's last byte
   * @param jsonCompact true when the bytes between two URLs are always `","` (a compact JSON
   *   list), so a batch's JSON is one stretch of them, copied at once
   */
  constructor(
    private readonly bytes: Buffer,
    private readonly starts: Int32Array,
    private readonly ends: Int32Array,
    private readonly jsonCompact: boolean,
  ) {
    if (starts.length === 0 || starts.length !== ends.length)
      throw new Error('a URL list holds at least one URL, each with a start and an end');
  }

  get length(): number {
    return this.starts.length;
  }

  /** The URL at `index`. */
  url(index: number): string {
    if (index < 0 || index >= this.length) throw new RangeError(`no URL at ${index} of ${this.length}`);
    // Printable ASCII only, so latin1 reads it as it was sent.
    return this.bytes.toString('latin1', this.starts[index], this.ends[index]);
  }

  /** The JSON array of the URLs in [from, to), as bytes: what JSON.stringify makes of them, without making the strings. */
  packed(from: number, to: number): Buffer {
    if (from < 0 || to > this.length || from >= to) throw new RangeError(`no URLs [${from}, ${to}) of ${this.length}`);
    if (this.jsonCompact) {
      // `["` … `"]`: the list's own bytes from the first URL's opening quote to the last one's closing quote.
      const start = this.starts[from]! - 1;
      const end = this.ends[to - 1]! + 1;
      const out = Buffer.allocUnsafe(end - start + 2);
      out[0] = OPEN;
      this.bytes.copy(out, 1, start, end);
      out[out.length - 1] = CLOSE;
      return out;
    }
    let size = 1;
    let narrowGaps = true;
    for (let i = from; i < to; i++) {
      size += this.ends[i]! - this.starts[i]! + 3;
      if (i > from && this.starts[i]! - this.ends[i - 1]! > 3) narrowGaps = false;
    }
    const out = Buffer.allocUnsafe(size);
    return narrowGaps ? this.packInPlace(out, from, to) : this.packEach(out, from, to);
  }

  /** Each URL copied into place: a view per copy, for lists with comments or blank lines between. */
  private packEach(out: Buffer, from: number, to: number): Buffer {
    let p = 0;
    for (let i = from; i < to; i++) {
      out[p++] = i === from ? OPEN : COMMA;
      out[p++] = QUOTE;
      p += this.bytes.copy(out, p, this.starts[i], this.ends[i]);
      out[p++] = QUOTE;
    }
    out[p] = CLOSE;
    return out;
  }

  /**
   * The batch's stretch of the body copied once, at offset 2, then each URL moved right into
   * place, the last first (copyWithin: no view, no garbage per URL). With at most 3 bytes
   * between two URLs (a line end, CRLF, a blank line) every URL moves right, by the 3 bytes
   * `","` takes less what stood between, so no move overwrites a URL not yet moved.
   */
  private packInPlace(out: Buffer, from: number, to: number): Buffer {
    const base = this.starts[from]!;
    this.bytes.copy(out, 2, base, this.ends[to - 1]);
    let end = out.length - 1;
    out[end] = CLOSE;
    for (let i = to - 1; i >= from; i--) {
      const length = this.ends[i]! - this.starts[i]!;
      const at = end - 1 - length;
      const was = 2 + this.starts[i]! - base;
      if (at !== was) out.copyWithin(at, was, was + length);
      out[at + length] = QUOTE;
      out[at - 1] = QUOTE;
      out[at - 2] = i === from ? OPEN : COMMA;
      end = at - 2;
    }
    return out;
  }

  /** Every URL as a file input, for the paths that need them one by one (reuse, an Idempotency-Key's fingerprint). */
  toFiles(): Array<{ url: string }> {
    return Array.from({ length: this.length }, (_, i) => ({ url: this.url(i) }));
  }

  /** A request holding this list fingerprints (JSON.stringify) as one holding the same URLs as file inputs. */
  toJSON(): Array<{ url: string }> {
    return this.toFiles();
  }
}

/** Where each URL of a list starts and ends in its body, gathered as a scan goes (then `list`). */
export class UrlSpans {
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private count = 0;

  push(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const grow = (a: Int32Array) => {
        const grown = new Int32Array(a.length * 2);
        grown.set(a);
        return grown;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.count] = start;
    this.ends[this.count++] = end;
  }

  get length(): number {
    return this.count;
  }

  list(bytes: Buffer, jsonCompact: boolean): UrlListBytes {
    return new UrlListBytes(bytes, this.starts.subarray(0, this.count), this.ends.subarray(0, this.count), jsonCompact);
  }
}

const OPEN = 0x5b;
const CLOSE = 0x5d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** A job's files: file inputs, or a URL list still in the bytes it arrived in. */
export type JobFiles = readonly FileInput[] | UrlListBytes;

/** The files one by one (a UrlListBytes is turned into file inputs). */
export function fileInputs(files: JobFiles): readonly FileInput[] {
  return files instanceof UrlListBytes ? files.toFiles() : files;
}
