import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { isDomainError, type DomainError, type DomainErrorCode, type FieldError } from '@batchscribe/shared';

export type { FieldError };

/** RFC 9457 problem types (README, "HTTP API"): the last path segment is the stable machine-readable code. */
export type ProblemType =
  | 'malformed-request'
  | 'unsupported-media-type'
  | 'validation-error'
  | 'payload-too-large'
  | 'unauthorized'
  | 'request-timeout'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed'
  | 'idempotency-conflict'
  | 'rate-limited'
  | 'unavailable'
  | 'internal';

export const PROBLEM_BASE = 'https://batchscribe.dev/problems/';

const TITLES: Record<ProblemType, [status: number, title: string]> = {
  'malformed-request': [400, 'Malformed request'],
  'unsupported-media-type': [415, 'Unsupported media type'],
  'validation-error': [422, 'Validation failed'],
  'payload-too-large': [413, 'Payload too large'],
  unauthorized: [401, 'Unauthorized'],
  'request-timeout': [408, 'Request timeout'],
  'not-found': [404, 'Not found'],
  conflict: [409, 'Conflict'],
  'precondition-failed': [412, 'Precondition failed'],
  'idempotency-conflict': [422, 'Idempotency key reused with another request'],
  'rate-limited': [429, 'Too many requests'],
  unavailable: [503, 'Service unavailable'],
  internal: [500, 'Internal server error'],
};

/** Every problem type with its status and title, for the OpenAPI document. */
export const PROBLEM_CATALOG: Readonly<Record<ProblemType, readonly [status: number, title: string]>> = TITLES;

/** The one error type route code throws; the error middleware turns it into problem+json. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly type: ProblemType,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
    /** Members beyond the standard ones (RFC 9457 §3.2), e.g. `checks` of a failed readiness probe. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    [this.status, this.title] = TITLES[type];
  }
}

export function sendProblem(res: Response, problem: ProblemError): void {
  res
    .status(problem.status)
    .set({ 'content-type': 'application/problem+json', ...problem.headers })
    .send(
      JSON.stringify({
        type: PROBLEM_BASE + problem.type,
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        ...(problem.errors ? { errors: problem.errors } : {}),
        ...problem.extensions,
      }),
    );
}

interface BodyParserError {
  type?: string;
  status?: number;
  code?: string;
}

/** The problem type of each domain error code: the only place domain outcomes meet HTTP. */
const DOMAIN_PROBLEMS: Record<DomainErrorCode, ProblemType> = {
  not_found: 'not-found',
  conflict: 'conflict',
  validation: 'validation-error',
  too_large: 'payload-too-large',
  rate_limited: 'rate-limited',
  idempotency_key_reused: 'idempotency-conflict',
  unavailable: 'unavailable',
  damaged: 'internal',
};

export function domainProblem(err: DomainError): ProblemError {
  const headers: Record<string, string> = err.retryAfterS === undefined ? {} : { 'retry-after': String(err.retryAfterS) };
  const errors = 'errors' in err ? (err.errors as FieldError[]) : undefined;
  return new ProblemError(DOMAIN_PROBLEMS[err.code], err.message, errors, headers, err.extensions);
}

/** Maps everything thrown in a route to problem+json; unknown errors are 500s and logged. */
export function problemHandler(deps: { logger: Logger; redisReady: () => boolean }): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const problem = toProblem(err, deps.redisReady());
    const domain = isDomainError(err);
    if (problem.status >= 500 && problem.type !== 'unavailable') {
      (req.log ?? deps.logger).error({ err }, 'request failed');
    } else if (problem.type === 'unavailable' && !domain && !(err instanceof ProblemError)) {
      // An error toProblem read as Redis being down; a deliberate 503 (intake budget, stream caps) is no such thing.
      (req.log ?? deps.logger).warn({ err: (err as Error).message }, 'redis unavailable');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, problem);
  };
}

function toProblem(err: unknown, redisReady: boolean): ProblemError {
  if (err instanceof ProblemError) return err;
  if (isDomainError(err)) return domainProblem(err);
  const parserError = err as BodyParserError;
  switch (parserError?.type) {
    case 'entity.parse.failed':
      return new ProblemError('malformed-request', 'The body is not valid JSON.');
    case 'entity.too.large':
      return new ProblemError('payload-too-large', 'The request body is larger than this server accepts.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProblemError('unsupported-media-type', 'The body encoding or charset is not supported.');
    case 'request.aborted':
      return new ProblemError('malformed-request', 'The request was aborted.');
    case 'entity.utf8.invalid':
      return new ProblemError('malformed-request', 'The body is not valid UTF-8 (the charset it declares, or UTF-8 by default).');
    default:
      break;
  }
  // A body whose Content-Encoding does not match its bytes (gzip that is not gzip): zlib's error, marked 400 by body-parser.
  if (typeof parserError?.code === 'string' && parserError.code.startsWith('Z_')) {
    return new ProblemError('malformed-request', 'The body could not be decoded with its Content-Encoding.');
  }
  if (parserError?.status === 400 && parserError.type === undefined && err instanceof Error && 'expose' in err) {
    return new ProblemError('malformed-request', 'The request body could not be read.');
  }
  if (!redisReady) {
    return new ProblemError('unavailable', 'The job store is unreachable; try again shortly.', undefined, { 'retry-after': '5' });
  }
  return new ProblemError('internal', 'Something went wrong on our side.');
}
