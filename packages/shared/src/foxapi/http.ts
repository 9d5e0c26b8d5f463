import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { errorBodySchema } from './schemas.js';
import { isBodyTooLarge, readLimited } from '../io/read-limited.js';
import { FoxapiError, kindForStatus, parseRetryAfter } from './errors.js';

/*
 * Reading and judging HTTP answers, apart from the client so the client reads as the three calls
 * it makes.
 */

/**
 * Largest body we read. A 12 h file with word timestamps is some tens of MB of JSON (foxapi
 * takes files of at most 12 h: docs/upstream.md, "Limits and lifetimes"), so this only stops a
 * runaway or hostile answer.
 */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

export type HeaderValue = string | string[] | undefined;

function headerText(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a body stream whole, undoing a content-encoding some storage serves regardless of what
 * we asked. Stops reading past `maxBytes` (before and after decoding), so a runaway answer costs
 * at most that much memory.
 */
export async function readBody(
  body: AsyncIterable<Uint8Array>,
  contentEncoding: HeaderValue,
  label: string,
  maxBytes: number = MAX_BODY_BYTES,
): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readLimited(body, maxBytes);
  } catch (err) {
    throw isBodyTooLarge(err) ? tooLarge(label, maxBytes) : err;
  }
  const encodings = (headerText(contentEncoding) ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '' && e !== 'identity')
    .reverse(); // applied in listed order, so undone in reverse
  for (const encoding of encodings) {
    const decode = decoders[encoding];
    if (!decode) throw new FoxapiError({ kind: 'protocol', message: `${label}: unsupported content-encoding ${encoding}` });
    try {
      bytes = await decode(bytes);
    } catch (err) {
      throw new FoxapiError({ kind: 'protocol', message: `${label}: body does not decode as ${encoding}`, cause: err });
    }
    if (bytes.length > maxBytes) throw tooLarge(label, maxBytes);
  }
  return bytes;
}

function tooLarge(label: string, maxBytes: number): FoxapiError {
  return new FoxapiError({ kind: 'protocol', message: `${label}: answer larger than ${maxBytes} bytes` });
}

/** `readBody` as a UTF-8 string. */
export async function readBodyText(body: AsyncIterable<Uint8Array>, contentEncoding: HeaderValue, label: string): Promise<string> {
  return (await readBody(body, contentEncoding, label)).toString('utf8');
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function optionalString(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return null;
}

/** The FoxapiError for a non-2xx answer, keeping foxapi's `error.code`/`error.type` when it sent them. */
export function errorForStatus(status: number, headers: Record<string, HeaderValue>, bodyText: string, label: string): FoxapiError {
  const parsed = errorBodySchema.safeParse(parseJson(bodyText));
  const upstream = parsed.success ? parsed.data.error : null;
  const upstreamCode = optionalString(upstream?.code);
  const upstreamType = optionalString(upstream?.type);
  const upstreamMessage = optionalString(upstream?.message);
  const detail = [upstreamCode ?? upstreamType, upstreamMessage].filter((s) => s !== null).join(': ');
  return new FoxapiError({
    kind: kindForStatus(status),
    message: `${label}: HTTP ${status}${detail ? ` (${detail.slice(0, 300)})` : ''}`,
    status,
    upstreamCode,
    upstreamType,
    retryAfterMs: parseRetryAfter(headers['retry-after']),
    maybeReachedServer: true,
  });
}
