import { isWellFormedString } from '../domain/json-input.js';

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
