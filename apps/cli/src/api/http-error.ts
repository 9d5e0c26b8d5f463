import { CliError } from '../errors.js';
import { problemSchema, type FieldError } from './schemas.js';

/** A non-2xx answer, already worded as the CLI's error line, with the problem's `errors[]` as details. */
export class HttpError extends CliError {
  override readonly name = 'HttpCliError';

  constructor(
    readonly status: number,
    /** The problem type's last path segment (`validation-error`), or null when the body was not problem+json. */
    readonly problemType: string | null,
    readonly detail: string,
    message: string,
    readonly fieldErrors: readonly FieldError[] = [],
    details: readonly string[] = fieldErrors.map((e) => `${e.path}: ${e.message}`),
  ) {
    super(message, undefined, status === 429 || status === 502 || status === 503 || status === 504, details);
  }

  /** The same error with other detail lines (the submit command names input lines instead of paths). */
  withDetails(details: readonly string[]): HttpError {
    return new HttpError(this.status, this.problemType, this.detail, this.message, this.fieldErrors, details);
  }
}

/**
 * Reads an error response into `<status> <type>: <detail>`, e.g.
 * `422 validation-error: The job is invalid: file_urls.3 must be an http or https URL.`
 */
export async function httpErrorFrom(res: Response, hints: Partial<Record<number, string>> = {}): Promise<HttpError> {
  const text = await res.text().catch(() => '');
  let problemType: string | null = null;
  let detail = '';
  let fieldErrors: FieldError[] = [];
  try {
    const problem = problemSchema.safeParse(JSON.parse(text));
    if (problem.success) {
      problemType = problem.data.type?.split('/').filter(Boolean).pop() ?? null;
      detail = problem.data.detail ?? problem.data.title ?? '';
      fieldErrors = problem.data.errors ?? [];
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  if (!detail) detail = text.trim().slice(0, 200) || res.statusText || 'no details';
  const retryAfter = res.headers.get('retry-after');
  const requestId = res.status >= 500 ? res.headers.get('x-request-id') : null;
  const suffix =
    (hints[res.status] ? ` (${hints[res.status]})` : '') +
    (retryAfter && (res.status === 429 || res.status === 503) ? ` (retry after ${retryAfter}s)` : '') +
    (requestId ? ` (request id ${requestId})` : '');
  const label = problemType ?? (res.statusText || 'error').toLowerCase();
  return new HttpError(res.status, problemType, detail, `${res.status} ${label}: ${detail}${suffix}`, fieldErrors);
}
