import type { Response } from 'express';

/** foxapi's error body: `{"error": {"message", "type", "code"?}}`. */
export interface FoxapiErrorBody {
  error: { message: string; type: string; code?: string };
}

interface KnownError {
  type: string;
  message: string;
  code?: string;
}

/** The body foxapi documents for each status, used for injected faults. */
const KNOWN_ERRORS: Record<number, KnownError> = {
  400: { type: 'invalid_request_error', message: 'Invalid request.' },
  401: { type: 'authentication_error', message: 'Invalid API key.' },
  402: { type: 'insufficient_quota', message: 'Insufficient balance. Please top up and retry.' },
  404: { type: 'not_found', message: 'Task not found.' },
  422: {
    type: 'invalid_request_error',
    code: 'unsupported_advanced_options',
    message: 'No available channel supports the advanced options in this request.',
  },
  429: { type: 'rate_limit_error', message: 'Rate limit exceeded. Please retry later.' },
  500: { type: 'server_error', message: 'Unknown server error. Please retry later.' },
  503: { type: 'service_unavailable_error', message: 'No available channel for this model. Please retry later.' },
};

export function knownError(status: number): KnownError {
  return (
    KNOWN_ERRORS[status] ??
    (status >= 500
      ? { type: 'server_error', message: `Simulated upstream error ${status}.` }
      : { type: 'invalid_request_error', message: `Simulated client error ${status}.` })
  );
}

export interface SendErrorOptions {
  code?: string;
  retryAfterS?: number;
}

export function sendError(res: Response, status: number, type: string, message: string, options: SendErrorOptions = {}): void {
  if (options.retryAfterS !== undefined) res.set('Retry-After', String(options.retryAfterS));
  const body: FoxapiErrorBody = {
    error: { message, type, ...(options.code === undefined ? {} : { code: options.code }) },
  };
  res.status(status).json(body);
}

export function sendKnownError(res: Response, status: number, retryAfterS?: number): void {
  const { type, message, code } = knownError(status);
  sendError(res, status, type, message, {
    ...(code === undefined ? {} : { code }),
    ...(retryAfterS === undefined ? {} : { retryAfterS }),
  });
}
