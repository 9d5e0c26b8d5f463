import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';

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
  'idempotency-conflict': [422, 'Idempotency key reused with another request'],
  'rate-limited': [429, 'Too many requests'],
  unavailable: [503, 'Service unavailable'],
  internal: [500, 'Internal server error'],
};

/** Every problem type with its status and title, for the OpenAPI document. */
export const PROBLEM_CATALOG: Readonly<Record<ProblemType, readonly [status: number, title: string]>> = TITLES;

export interface FieldError {
  path: string;
  message: string;
}

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
      }),
    );
}

interface BodyParserError {
  type?: string;
  status?: number;
  code?: string;
}

/** Maps everything thrown in a route to problem+json; unknown errors are 500s and logged. */
export function problemHandler(deps: { logger: Logger; redisReady: () => boolean }): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const problem = toProblem(err, deps.redisReady());
    if (problem.status >= 500 && problem.type !== 'unavailable') {
      (req.log ?? deps.logger).error({ err }, 'request failed');
    } else if (problem.type === 'unavailable') {
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
