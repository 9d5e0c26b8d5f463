import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { MAX_REF_LENGTH, fileUrl, wellFormedString } from '../domain/requests.js';
import { parseUrlList } from '../intake/url-list.js';
import type { OutboundPolicy } from '../outbound/address-policy.js';
import { OutboundRedirectError, getFollowingRedirects } from '../outbound/follow-redirects.js';
import { describeOutboundFailure } from '../outbound/outbound-failure.js';
import { isBodyTooLarge, readLimited } from '../io/read-limited.js';

/**
 * A schedule's manifest: fetched at each fire, under a size and a time limit, then parsed as
 * text (one URL a line, `#` comments) or JSON (an array of URLs or of `{url, ref}`).
 */

export type ManifestFile = { url: string; ref?: string };

export type ManifestErrorCode =
  'manifest_unreachable' | 'manifest_too_big' | 'manifest_unparsable' | 'manifest_empty' | 'manifest_too_many_files';

/** Why a manifest made no job; `message` is what `last_run.error` shows. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    readonly code: ManifestErrorCode,
    message: string,
    /** The low-level cause (it may name internal addresses): for the logs, never for the tenant. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** 50 MiB: room for ~100,000 URLs (MAX_FILES_PER_JOB) of a few hundred bytes each. */
export const DEFAULT_MANIFEST_MAX_BYTES = 50 * 1024 * 1024;
export const DEFAULT_MANIFEST_TIMEOUT_MS = 30_000;

export interface ManifestFetcherOptions {
  /** Largest manifest read; default 50 MiB. */
  maxBytes?: number;
  /** Whole fetch, headers and body; default 30 s. */
  timeoutMs?: number;
  /** Most files one manifest may list (MAX_FILES_PER_JOB). */
  maxFiles: number;
  /** An outbound Agent (createOutboundAgent), made and closed by the composition root. */
  dispatcher: Dispatcher;
  /** Checked on the manifest URL and again on every redirect. */
  policy: OutboundPolicy;
  /** Redirects followed; default 5. */
  maxRedirects?: number;
}

/**
 * The one place the scheduler reaches outside. The URL is the tenant's, so it goes through the
 * outbound policy on every hop, and what `last_run.error` says about a failure is what the
 * host did (status, timeout, refused), never the low-level error text.
 */
export class ManifestFetcher {
  private readonly maxBytes: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ManifestFetcherOptions) {
    this.maxBytes = opts.maxBytes ?? DEFAULT_MANIFEST_MAX_BYTES;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_MANIFEST_TIMEOUT_MS;
  }

  async fetch(url: string): Promise<ManifestFile[]> {
    const { text, contentType } = await this.download(url);
    return parseManifest(text, contentType, this.opts.maxFiles);
  }

  private async download(url: string): Promise<{ text: string; contentType: string }> {
    let res: Dispatcher.ResponseData;
    try {
      res = await getFollowingRedirects(url, {
        dispatcher: this.opts.dispatcher,
        policy: this.opts.policy,
        maxRedirects: this.opts.maxRedirects ?? 5,
        headers: { accept: 'application/json, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'batchscribe-scheduler' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new ManifestError(
        'manifest_unreachable',
        `manifest_url could not be fetched: ${describe(err, this.timeoutMs)}`,
        (err as Error).message,
      );
    }
    const contentType = String(res.headers['content-type'] ?? '');
    if (res.statusCode < 200 || res.statusCode > 299) {
      discard(res.body);
      throw new ManifestError('manifest_unreachable', `manifest_url answered HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (declared > this.maxBytes) {
      discard(res.body);
      throw new ManifestError('manifest_too_big', `the manifest is ${declared} bytes; at most ${this.maxBytes} are read`);
    }
    let bytes: Buffer;
    try {
      // Counted as it streams: a server that sends no (or a false) Content-Length is cut off there.
      bytes = await readLimited(res.body, this.maxBytes);
    } catch (err) {
      if (isBodyTooLarge(err)) {
        discard(res.body);
        throw new ManifestError('manifest_too_big', `the manifest is larger than ${this.maxBytes} bytes`);
      }
      throw new ManifestError(
        'manifest_unreachable',
        `manifest_url could not be read: ${describe(err, this.timeoutMs)}`,
        (err as Error).message,
      );
    }
    return { text: bytes.toString('utf8'), contentType };
  }
}

/** Drops an answer we will not read; destroying emits an abort error nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function describe(err: unknown, timeoutMs: number): string {
  if (err instanceof OutboundRedirectError) return err.message;
  const failure = describeOutboundFailure(err);
  return failure === 'timed out' ? `no complete answer within ${timeoutMs} ms` : failure;
}

const jsonEntry = z.union([
  fileUrl,
  // Not strict: manifests exported by other tools may carry extra fields (duration, size…).
  z.object({
    url: fileUrl,
    ref: wellFormedString()
      .max(MAX_REF_LENGTH, { message: `must be at most ${MAX_REF_LENGTH} characters` })
      .optional(),
  }),
]);

/** Text or JSON, decided by Content-Type, else by whether the body starts with `[`. */
export function parseManifest(raw: string, contentType: string, maxFiles: number): ManifestFile[] {
  const text = raw.replace(/^\uFEFF/, '');
  const files = /json/i.test(contentType) || text.trimStart().startsWith('[') ? parseJson(text) : parseText(text);
  if (files.length === 0) throw new ManifestError('manifest_empty', 'the manifest lists no URLs');
  if (files.length > maxFiles)
    throw new ManifestError(
      'manifest_too_many_files',
      `the manifest lists ${files.length} files; at most ${maxFiles} are accepted per job`,
    );
  return files;
}

function parseJson(text: string): ManifestFile[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ManifestError('manifest_unparsable', 'the manifest is not valid JSON');
  }
  if (!Array.isArray(value)) throw new ManifestError('manifest_unparsable', 'a JSON manifest must be an array of URLs or of {url, ref}');
  return value.map((item, i) => {
    const parsed = jsonEntry.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ManifestError('manifest_unparsable', `manifest item ${i}: ${issue?.message ?? 'is not a URL or {url, ref}'}`);
    }
    const entry = parsed.data;
    if (typeof entry === 'string') return { url: entry };
    return entry.ref === undefined ? { url: entry.url } : { url: entry.url, ref: entry.ref };
  });
}

function parseText(text: string): ManifestFile[] {
  const list = parseUrlList(text);
  const firstError = list.errors[0];
  if (firstError) throw new ManifestError('manifest_unparsable', `manifest line ${firstError.line}: ${firstError.message}`);
  return list.urls.map((url, k) => {
    const checked = fileUrl.safeParse(url);
    if (!checked.success) {
      throw new ManifestError(
        'manifest_unparsable',
        `manifest line ${list.lines[k]}: ${checked.error.issues[0]?.message ?? 'is not a URL'}`,
      );
    }
    return { url };
  });
}
