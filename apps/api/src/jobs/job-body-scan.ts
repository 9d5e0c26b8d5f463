import { MAX_URL_LENGTH, UrlListBytes } from '@batchscribe/shared';

/**
 * A `POST /v1/jobs` JSON body whose `file_urls` list was read from its bytes (scanJobBody): the
 * other members parsed as JSON.parse parses them, the list kept as a UrlListBytes.
 */
export class ScannedJobBody {
  constructor(
    /** The body without its list: `file_urls` is `[]` here. */
    readonly rest: Record<string, unknown>,
    readonly urls: UrlListBytes,
  ) {}
}

/** A text/plain list read from its bytes (scanTextList): every line a plain URL, a blank or a comment. */
export class ScannedTextList {
  constructor(readonly urls: UrlListBytes) {}
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

function skipSpace(buf: Buffer, p: number): number {
  while (isSpace(buf[p])) p++;
  return p;
}

/** `p` at a string's opening quote: the offset after its closing quote, or -1. Escapes are skipped as JSON reads them. */
function skipString(buf: Buffer, p: number): number {
  for (let q = p + 1; q < buf.length; q++) {
    const c = buf[q];
    if (c === BACKSLASH) q++;
    else if (c === QUOTE) return q + 1;
  }
  return -1;
}

/**
 * `p` at a value: the offset after it, or -1. Only its extent is found (strings, brackets);
 * whether it is valid JSON is JSON.parse's to say, when the rest of the body is parsed.
 */
function skipValue(buf: Buffer, p: number): number {
  const first = buf[p];
  if (first === QUOTE) return skipString(buf, p);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let q = p; q < buf.length; q++) {
      const c = buf[q];
      if (c === QUOTE) {
        const end = skipString(buf, q);
        if (end < 0) return -1;
        q = end - 1;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (--depth === 0) return q + 1;
      }
    }
    return -1;
  }
  let q = p;
  while (q < buf.length && !isSpace(buf[q]) && buf[q] !== COMMA && buf[q] !== CLOSE_OBJECT && buf[q] !== CLOSE_ARRAY) q++;
  return q === p ? -1 : q;
}

/** The URLs found so far: where each starts and ends in the body, grown as the scan goes. */
class Spans {
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

const HOST = 1;
const LETTER = 2;
const PATH = 4;
/** What each byte may be in a plain URL: a host character, a letter, a path character (printable ASCII but `"` and `\`). */
const CLASS = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) if (c !== QUOTE && c !== BACKSLASH) CLASS[c]! |= PATH;
for (const c of Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ')) CLASS[c]! |= HOST | LETTER;
for (const c of Buffer.from('0123456789-')) CLASS[c]! |= HOST;

const lower = (c: number | undefined) => (c ?? 0) | 0x20;

/**
 * `p` at a URL's first byte: the offset just past it when a plain URL starts there, read byte
 * by byte without making its string, else -1; what ends it (a quote, a line end) is the
 * caller's to check. Plain: `http://` or `https://` in any case; dot-separated labels of
 * letters, digits and hyphens, none starting `xn--` (its punycode could be invalid), the last
 * starting with a letter (so never an IPv4 address out of range); then nothing, or one of `/?#`
 * and printable ASCII but `"` and `\`; at most MAX_URL_LENGTH in all. WHATWG parsing accepts
 * every such URL, so the `fileUrl` schema does (apps/api/test/job-body-scan.test.ts holds them
 * to it), and JSON writes it as it is.
 */
function plainUrlEnd(buf: Buffer, p: number): number {
  if (lower(buf[p]) !== 0x68 || lower(buf[p + 1]) !== 0x74 || lower(buf[p + 2]) !== 0x74 || lower(buf[p + 3]) !== 0x70) return -1;
  let q = p + 4;
  if (lower(buf[q]) === 0x73) q++;
  if (buf[q] !== COLON || buf[q + 1] !== 0x2f || buf[q + 2] !== 0x2f) return -1;
  q += 3;
  for (;;) {
    const label = q;
    if (lower(buf[q]) === 0x78 && lower(buf[q + 1]) === 0x6e && buf[q + 2] === 0x2d && buf[q + 3] === 0x2d) return -1;
    while (CLASS[buf[q] ?? 0]! & HOST) q++;
    if (q === label) return -1;
    if (buf[q] === 0x2e) {
      q++;
      continue;
    }
    if (!(CLASS[buf[label]!]! & LETTER)) return -1;
    break;
  }
  const next = buf[q];
  if (next === 0x2f || next === 0x3f || next === 0x23) {
    q++;
    while (CLASS[buf[q] ?? 0]! & PATH) q++;
  }
  return q - p > MAX_URL_LENGTH ? -1 : q;
}

interface ScannedList {
  /** Offsets of the list's `[` and just past its `]`. */
  start: number;
  end: number;
  spans: Spans;
}

/**
 * `p` at `[`: the list when it is compact (`["u1","u2",…]`, no whitespace) and each item is a
 * plain URL (plainUrlEnd) that its quote ends, else null. Such an item holds no backslash, so
 * no escape: its bytes are the URL, ASCII, as JSON.stringify writes it.
 */
function scanUrlList(buf: Buffer, p: number): ScannedList | null {
  if (buf[p] !== OPEN_ARRAY || buf[p + 1] !== QUOTE) return null;
  const spans = new Spans();
  for (let open = p + 1; ;) {
    const close = plainUrlEnd(buf, open + 1);
    if (close < 0 || buf[close] !== QUOTE) return null;
    spans.push(open + 1, close);
    const after = buf[close + 1];
    if (after === CLOSE_ARRAY) return { start: p, end: close + 2, spans };
    if (after !== COMMA || buf[close + 2] !== QUOTE) return null;
    open = close + 2;
  }
}

/**
 * Reads a JSON job body whose top-level `file_urls` is a compact list of plain URLs without
 * making a string per URL or parsing the list (a 100,000-URL body is ~7 MB): the members around
 * the list are found by their extent, the list is checked byte by byte, and the body with the
 * list replaced by `[]` is then given to JSON.parse, which judges everything else as it would
 * have. Null for any other body, or any doubt (a second `file_urls`, a list with spaces, an
 * escape or a URL that needs URL.canParse): the caller parses it whole, and answers its errors,
 * as before. So this path never accepts what JSON.parse and the schema would refuse.
 */
export function scanJobBody(buf: Buffer): ScannedJobBody | null {
  let p = skipSpace(buf, 0);
  if (buf[p] !== OPEN_OBJECT) return null;
  p = skipSpace(buf, p + 1);
  let list: ScannedList | null = null;
  for (;;) {
    if (buf[p] !== QUOTE) return null;
    const keyEnd = skipString(buf, p);
    if (keyEnd < 0) return null;
    let key: unknown;
    try {
      key = JSON.parse(buf.toString('utf8', p, keyEnd));
    } catch {
      return null;
    }
    p = skipSpace(buf, keyEnd);
    if (buf[p] !== COLON) return null;
    p = skipSpace(buf, p + 1);
    if (key === 'file_urls') {
      // JSON.parse keeps the last of two; which one counts is the general path's to say.
      if (list !== null) return null;
      list = scanUrlList(buf, p);
      if (list === null) return null;
      p = list.end;
    } else {
      p = skipValue(buf, p);
      if (p < 0) return null;
    }
    p = skipSpace(buf, p);
    if (buf[p] === CLOSE_OBJECT) break;
    if (buf[p] !== COMMA) return null;
    p = skipSpace(buf, p + 1);
  }
  if (list === null || skipSpace(buf, p + 1) !== buf.length) return null;
  let rest: unknown;
  try {
    rest = JSON.parse(`${buf.toString('utf8', 0, list.start)}[]${buf.toString('utf8', list.end)}`);
  } catch {
    return null;
  }
  // The list sat where the scan says only if JSON.parse finds `[]` there now.
  if (typeof rest !== 'object' || rest === null || Array.isArray(rest)) return null;
  const urls = (rest as { file_urls?: unknown }).file_urls;
  if (!Array.isArray(urls) || urls.length !== 0) return null;
  return new ScannedJobBody(rest as Record<string, unknown>, list.spans.list(buf, true));
}

const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const BOM = [0xef, 0xbb, 0xbf];

/**
 * Reads a text/plain URL list (url-list.ts's rules) from its bytes when every line is a plain
 * URL (plainUrlEnd) ending in LF, CRLF or the end of the body, an empty line, or a line
 * starting with `#`: each URL is then exactly what parseUrlList would give for that line. Null
 * for anything else (whitespace around a URL, a comment after one, a URL that needs
 * URL.canParse, no URL at all), which the caller decodes and parses as before.
 */
export function scanTextList(buf: Buffer): ScannedTextList | null {
  const spans = new Spans();
  let p = buf[0] === BOM[0] && buf[1] === BOM[1] && buf[2] === BOM[2] ? 3 : 0;
  while (p < buf.length) {
    const c = buf[p];
    if (c === LF) {
      p++;
      continue;
    }
    if (c === CR && buf[p + 1] === LF) {
      p += 2;
      continue;
    }
    if (c === HASH) {
      const end = buf.indexOf(LF, p);
      if (end < 0) break;
      p = end + 1;
      continue;
    }
    const end = plainUrlEnd(buf, p);
    if (end < 0) return null;
    const after = buf[end];
    if (after !== undefined && after !== LF && !(after === CR && (buf[end + 1] === LF || end + 1 === buf.length))) return null;
    spans.push(p, end);
    p = after === CR ? end + 2 : end + 1;
  }
  return spans.length === 0 ? null : new ScannedTextList(spans.list(buf, false));
}
