/** What went wrong with a foxapi call, coarse enough for a caller to pick a reaction. */
export type FoxapiErrorKind = 'auth' | 'quota' | 'invalid' | 'not_found' | 'rate_limited' | 'server' | 'timeout' | 'network' | 'protocol';

export interface FoxapiErrorInit {
  kind: FoxapiErrorKind;
  message: string;
  status?: number | null;
  upstreamCode?: string | null;
  upstreamType?: string | null;
  retryAfterMs?: number | null;
  /** Defaults to true: unless we know the request never left, assume it may have been acted on. */
  maybeReachedServer?: boolean;
  /** The socket or DNS error code (ENOTFOUND, ECONNREFUSED…) when no answer came. */
  errorCode?: string | null;
  /** The host the request went to, for errors without an answer. */
  host?: string | null;
  cause?: unknown;
}

/**
 * Every failure of the foxapi client. Check it with `isFoxapiError` (by `name`), not `instanceof`:
 * two copies of this module across packages would make `instanceof` lie.
 */
export class FoxapiError extends Error {
  override readonly name = 'FoxapiError';
  readonly kind: FoxapiErrorKind;
  /** HTTP status of the answer; null when there was none (timeout, network). */
  readonly status: number | null;
  /** `error.code` of foxapi's error body, when it sent one. */
  readonly upstreamCode: string | null;
  /** `error.type` of foxapi's error body, when it sent one. */
  readonly upstreamType: string | null;
  /** From a `Retry-After` header, when present and readable. */
  readonly retryAfterMs: number | null;
  /** False only when the request certainly never reached foxapi (connection refused, DNS, connect timeout). */
  readonly maybeReachedServer: boolean;
  /** ENOTFOUND, ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…: why no answer came; null for HTTP answers. */
  readonly errorCode: string | null;
  /** The host asked, when no answer came: what an operator checks DNS and firewalls for. */
  readonly host: string | null;

  constructor(init: FoxapiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status ?? null;
    this.upstreamCode = init.upstreamCode ?? null;
    this.upstreamType = init.upstreamType ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.maybeReachedServer = init.maybeReachedServer ?? true;
    this.errorCode = init.errorCode ?? null;
    this.host = init.host ?? null;
  }
}

export function isFoxapiError(e: unknown): e is FoxapiError {
  return e instanceof Error && e.name === 'FoxapiError' && typeof (e as { kind?: unknown }).kind === 'string';
}

/**
 * The one table of transient failures: the kinds worth another attempt after a back-off. Every
 * retry decision of the worker reads it; a submit also asks isAmbiguousSubmitFailure first.
 */
const TRANSIENT_KINDS: ReadonlySet<FoxapiErrorKind> = new Set(['rate_limited', 'server', 'timeout', 'network']);

export function isRetryable(err: unknown): boolean {
  return isFoxapiError(err) && TRANSIENT_KINDS.has(err.kind);
}

/**
 * HTTP statuses that say "try again later" rather than "this request is wrong": 408 (the
 * request did not arrive in time), 429, and every 5xx.
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * A submit failure after which a billed task may exist upstream (docs/upstream.md, "Submitting without idempotency"): foxapi has
 * no idempotency key, so such a submit must not be repeated blindly. A 200 we could not read
 * counts too: the task was created, we just lost its id.
 */
export function isAmbiguousSubmitFailure(err: unknown): boolean {
  if (!isFoxapiError(err)) return false;
  if (err.kind === 'protocol') return true;
  const transient = err.kind === 'server' || err.kind === 'timeout' || err.kind === 'network';
  return transient && err.maybeReachedServer;
}

/** HTTP status → kind. Only called for non-2xx statuses. */
export function kindForStatus(status: number): FoxapiErrorKind {
  switch (status) {
    case 401:
      return 'auth';
    case 402:
      return 'quota';
    case 404:
      return 'not_found';
    case 408:
      // Nothing proves the origin never saw the body, so a submit answered 408 stays ambiguous.
      return 'timeout';
    case 429:
      return 'rate_limited';
    default:
      if (status >= 500) return 'server';
      // 400, 422 and every other 4xx: the request itself is wrong and repeating it will not help.
      return 'invalid';
  }
}

/**
 * `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or
 * unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text === '') return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP-date form names a weekday and month; without letters, Date.parse would accept e.g. "-5" as a year.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Error codes of failures that happen before a single byte reached the server. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** The error codes of `err` and its causes (undici wraps socket errors; Node wraps AggregateErrors). */
function errorCodes(err: unknown, depth = 0): string[] {
  if (depth > 4 || typeof err !== 'object' || err === null) return [];
  const codes: string[] = [];
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') codes.push(code);
  codes.push(...errorCodes((err as { cause?: unknown }).cause, depth + 1));
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) for (const e of inner) codes.push(...errorCodes(e, depth + 1));
  return codes;
}

/**
 * Turns a thrown transport error (not an HTTP answer) into a FoxapiError whose message names
 * the code and the host (`network error (ENOTFOUND api.foxapi.cc)`), which is what tells a
 * DNS failure from a firewall from a down server.
 */
export function fromTransportError(err: unknown, context: string, host: string | null = null): FoxapiError {
  const codes = errorCodes(err);
  const neverSent = codes.some((c) => NEVER_SENT_CODES.has(c));
  const timedOut = codes.some((c) => TIMEOUT_CODES.has(c));
  const detail = err instanceof Error ? err.message : String(err);
  const errorCode = codes[0] ?? null;
  return new FoxapiError({
    kind: timedOut ? 'timeout' : 'network',
    message: `${context}: ${timedOut ? 'timed out' : 'network error'} (${[errorCode ?? detail, host].filter(Boolean).join(' ')})`,
    maybeReachedServer: !neverSent,
    errorCode,
    host,
    cause: err,
  });
}

/** No connection could be made (DNS, refused, connect timeout): foxapi is unreachable from here. */
export function isUnreachable(err: FoxapiError): boolean {
  return (err.kind === 'network' || err.kind === 'timeout') && !err.maybeReachedServer && err.errorCode !== null;
}
