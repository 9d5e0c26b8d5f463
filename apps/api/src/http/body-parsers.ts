import { isUtf8 } from 'node:buffer';
import express, { type Request, type RequestHandler } from 'express';

/** The error a body that claims UTF-8 but is not carries to the problem handler. */
export const INVALID_UTF8 = 'entity.utf8.invalid';

const UTF8 = new Set(['utf-8', 'utf8']);

/**
 * body-parser decodes with iconv-lite, which turns bytes that are not UTF-8 into U+FFFD
 * without a word: the stored URL or name would silently differ from the one sent. The raw
 * bytes (after any Content-Encoding is undone) are checked first instead.
 */
function verifyUtf8(_req: unknown, _res: unknown, buf: Buffer, encoding: string | null): void {
  if (encoding !== null && !UTF8.has(encoding.toLowerCase())) return;
  if (!isUtf8(buf)) throw Object.assign(new Error('The body is not valid UTF-8.'), { status: 400, type: INVALID_UTF8 });
}

export const JSON_TYPES = ['application/json', 'application/*+json'];

export function jsonBody(limit: number): RequestHandler {
  return express.json({ limit, type: JSON_TYPES, verify: verifyUtf8 });
}

/** A body JSON.parse refuses, as body-parser reports it (the problem handler's `entity.parse.failed`). */
function parseFailed(): Error {
  return Object.assign(new SyntaxError('The body is not valid JSON.'), { status: 400, type: 'entity.parse.failed', expose: true });
}

const FIRST_NON_SPACE = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;

/** What express.json makes of a UTF-8 body already read and checked: its BOM dropped, an object or array only, `{}` when empty. */
function parseJsonText(buf: Buffer): unknown {
  if (buf.length === 0) return {};
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = FIRST_NON_SPACE.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw parseFailed();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw parseFailed();
  }
}

const charsetOf = (req: Request): string | undefined => /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.get('content-type') ?? '')?.[1];

/** What express.text makes of a UTF-8 body already read and checked: the text, its BOM dropped. */
function decodeText(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * `general`, with a first look at the raw bytes of a UTF-8 body of `types`: `scan` may read it
 * without decoding it (a long URL list, jobs/job-body-scan.ts) and return what `req.body`
 * becomes, or null, and `decode` makes of the bytes what `general` would have. Bodies in
 * another charset go to `general` itself. Limits, Content-Encoding and the UTF-8 check are
 * body-parser's either way.
 */
function scannedBody(
  types: string[],
  general: RequestHandler,
  limit: number,
  scan: (body: Buffer) => unknown,
  decode: (body: Buffer) => unknown,
): RequestHandler {
  const raw = express.raw({ limit, type: types, verify: verifyUtf8 });
  return (req, res, next) => {
    const charset = charsetOf(req)?.toLowerCase();
    // Only what both parsers read as UTF-8 (express.json refuses `utf8` without its dash, with a 415).
    if (!req.is(types) || (charset !== undefined && charset !== 'utf-8')) return general(req, res, next);
    raw(req, res, (err?: unknown) => {
      if (err !== undefined) return next(err);
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body)) return next();
      try {
        req.body = scan(body) ?? decode(body);
      } catch (decodeErr) {
        return next(decodeErr);
      }
      next();
    });
  };
}

/** jsonBody, with `scan` given a UTF-8 body's bytes first (see scannedBody). */
export function scannedJsonBody(limit: number, scan: (body: Buffer) => unknown): RequestHandler {
  return scannedBody(JSON_TYPES, jsonBody(limit), limit, scan, parseJsonText);
}

/** textBody, with `scan` given a UTF-8 body's bytes first (see scannedBody). */
export function scannedTextBody(limit: number, scan: (body: Buffer) => unknown): RequestHandler {
  return scannedBody(TEXT_TYPES, textBody(limit), limit, scan, decodeText);
}

const TEXT_TYPES = ['text/plain'];

export function textBody(limit: number): RequestHandler {
  return express.text({ limit, type: TEXT_TYPES, verify: verifyUtf8 });
}
