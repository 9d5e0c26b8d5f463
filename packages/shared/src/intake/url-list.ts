import { isWellFormedString } from '../domain/json-input.js';
import { plainUrlEnd } from '../domain/plain-url.js';
import { MAX_URL_LENGTH } from '../domain/requests.js';
import { UrlSpans, type UrlListBytes } from '../store/url-list-bytes.js';

/**
 * A plain list of URLs, one a line, as the text/plain API, schedule manifests and the CLI take
 * it. Lines end in LF or CRLF; surrounding whitespace is trimmed; blank lines and lines starting
 * with `#` are skipped; as in a shell, a `#` after whitespace starts a comment that runs to the
 * end of the line. Whatever whitespace or control character is left inside a URL is an error
 * naming the line rather than part of the URL: a URL never holds a raw space.
 */

export interface UrlListError {
  /** 1-based line number. */
  line: number;
  /** The position the entry would have had among the list's URLs (0-based). */
  index: number;
  message: string;
}

export interface UrlList {
  /** The URLs of the lines without an error, in order. */
  urls: string[];
  /** The 1-based line each of `urls` came from. */
  lines: number[];
  errors: UrlListError[];
  /** Lines holding a URL, with or without an error. */
  entries: number;
}

const COMMENT = /\s#/u;
const INNER_SPACE_OR_CONTROL = /[\s\p{Cc}]/u;

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return /\s/u.test(ch) ? `whitespace (${hex})` : `a control character (${hex})`;
}

export interface UrlListEntry {
  /** 1-based line number. */
  line: number;
  /** The line without its comment and surrounding whitespace; not yet checked. */
  text: string;
}

/**
 * The entries of a URL list, one per line that holds something besides a comment: the one
 * place that knows the list's line, comment and BOM rules. parseUrlList checks the entries for
 * the api and manifests; the CLI checks them with its own messages.
 */
export function* urlListEntries(text: string): Generator<UrlListEntry> {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let start = 0;
  for (let lineNo = 1; start <= body.length; lineNo++) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    const raw = body.slice(start, end);
    start = end + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const comment = COMMENT.exec(line);
    yield { line: lineNo, text: comment ? line.slice(0, comment.index).trimEnd() : line };
  }
}

export function parseUrlList(text: string): UrlList {
  const list: UrlList = { urls: [], lines: [], errors: [], entries: 0 };
  for (const { line: lineNo, text: line } of urlListEntries(text)) {
    const index = list.entries++;
    const bad = INNER_SPACE_OR_CONTROL.exec(line);
    if (bad) {
      list.errors.push({
        line: lineNo,
        index,
        message: `holds ${describeChar(bad[0])} inside the URL (percent-encode it; a comment needs whitespace before its #)`,
      });
    } else if (!isWellFormedString(line)) {
      list.errors.push({ line: lineNo, index, message: 'is not well-formed Unicode (it holds a lone UTF-16 surrogate)' });
    } else {
      list.urls.push(line);
      list.lines.push(lineNo);
    }
  }
  return list;
}

const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const BOM = [0xef, 0xbb, 0xbf];

/**
 * A URL list read from its bytes, without decoding it, when every line is a plain URL
 * (domain/plain-url.ts) ending in LF, CRLF or the end of the body, an empty line, or a line
 * starting with `#` (a BOM first is skipped, as urlListEntries does): each URL is then exactly
 * what parseUrlList gives for that line, with no error, and one the `fileUrl` schema accepts.
 * Null for anything else (whitespace around a URL, a comment after one, a URL that needs
 * URL.canParse, no URL at all), which the caller decodes and parses as before. A
 * 100,000-URL text/plain intake takes this path (docs/architecture.md, "Intake").
 */
export function scanUrlListBytes(buf: Buffer): UrlListBytes | null {
  const spans = new UrlSpans();
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
    if (end < 0 || end - p > MAX_URL_LENGTH) return null;
    const after = buf[end];
    if (after !== undefined && after !== LF && !(after === CR && (buf[end + 1] === LF || end + 1 === buf.length))) return null;
    spans.push(p, end);
    p = after === CR ? end + 2 : end + 1;
  }
  return spans.length === 0 ? null : spans.list(buf, false);
}
