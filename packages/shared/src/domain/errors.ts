/**
 * What domain code throws when a request cannot be carried out: a small class per reason with
 * a stable `code` (as BullMQ's UnrecoverableError), never an HTTP status. The api's one error
 * handler turns each code into its problem+json; the worker reads the same codes.
 */
export const DOMAIN_ERROR_CODES = [
  'not_found',
  'conflict',
  'validation',
  'too_large',
  'rate_limited',
  'idempotency_key_reused',
  'unavailable',
  'damaged',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export interface FieldError {
  path: string;
  message: string;
}

export interface DomainErrorOptions {
  /** When trying again may work: how long to wait first. */
  retryAfterS?: number;
  /** Facts beyond the message a caller can act on (readiness checks, say). */
  extensions?: Record<string, unknown>;
}

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  readonly retryAfterS: number | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(message: string, opts: DomainErrorOptions = {}) {
    super(message);
    this.retryAfterS = opts.retryAfterS;
    this.extensions = opts.extensions;
  }
}

/** No such thing for this tenant (it never existed, expired, was deleted, or is another tenant's). */
export class NotFoundError extends DomainError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
}

/** The thing exists but its state forbids the action now (finished, still running, at a limit). */
export class ConflictError extends DomainError {
  override readonly name = 'ConflictError';
  readonly code = 'conflict';
}

/** The input is wrong; `errors` says where, one entry per field. */
export class ValidationError extends DomainError {
  override readonly name = 'ValidationError';
  readonly code = 'validation';

  constructor(
    message: string,
    readonly errors: FieldError[],
    opts?: DomainErrorOptions,
  ) {
    super(message, opts);
  }
}

/** The input is larger than allowed (files per job, say). */
export class TooLargeError extends DomainError {
  override readonly name = 'TooLargeError';
  readonly code = 'too_large';
}

/** The tenant used up a rate limit. */
export class RateLimitedError extends DomainError {
  override readonly name = 'RateLimitedError';
  readonly code = 'rate_limited';
}

/** An idempotency key came back with another request than the one it was first used for. */
export class IdempotencyKeyReusedError extends DomainError {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly code = 'idempotency_key_reused';
}

/** A dependency (Redis, the workers) cannot serve now; worth trying again after `retryAfterS`. */
export class UnavailableError extends DomainError {
  override readonly name = 'UnavailableError';
  readonly code = 'unavailable';
}

/** A stored record could not be read, so the action did not run and the record was left as it was. */
export class DamagedRecordError extends DomainError {
  override readonly name = 'DamagedRecordError';
  readonly code = 'damaged';
}

const CODES: ReadonlySet<string> = new Set(DOMAIN_ERROR_CODES);

/** By `code`, not `instanceof`: two copies of this module (source and dist) must still agree. */
export function isDomainError(err: unknown): err is DomainError {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && CODES.has(code);
}

/** The one "No such job." every job route and action throws for an id it cannot find for the tenant. */
export function jobNotFound(): NotFoundError {
  return new NotFoundError('No such job.');
}
