import { MAX_URL_LENGTH, UrlSpans, plainUrlEnd, type UrlListBytes } from '@batchscribe/shared';

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

interface ScannedList {
  /** Offsets of the list's `[` and just past its `]`. */
  start: number;
  end: number;
  spans: UrlSpans;
}

/**
 * `p` at `[`: the list when it is compact (`["u1","u2",…]`, no whitespace) and each item is a
 * plain URL (domain/plain-url.ts) that its quote ends, else null. Such an item holds no
 * backslash, so no escape: its bytes are the URL, ASCII, as JSON.stringify writes it.
 */
function scanUrlList(buf: Buffer, p: number): ScannedList | null {
  if (buf[p] !== OPEN_ARRAY || buf[p + 1] !== QUOTE) return null;
  const spans = new UrlSpans();
  for (let open = p + 1; ;) {
    const close = plainUrlEnd(buf, open + 1);
    if (close < 0 || buf[close] !== QUOTE || close - open - 1 > MAX_URL_LENGTH) return null;
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
