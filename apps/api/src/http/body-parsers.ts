import { isUtf8 } from 'node:buffer';
import express, { type RequestHandler } from 'express';

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

export function textBody(limit: number): RequestHandler {
  return express.text({ limit, type: 'text/plain', verify: verifyUtf8 });
}
