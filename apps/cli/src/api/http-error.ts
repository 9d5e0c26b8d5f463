import { CliError } from '../errors.js';
import { problemSchema } from './schemas.js';

/** A non-2xx answer, already worded as the CLI's one error line. */
export class HttpError extends CliError {
  override readonly name = 'HttpCliError';

  constructor(
    readonly status: number,
    /** The problem type's last path segment (`validation-error`), or null when the body was not problem+json. */
    readonly problemType: string | null,
    readonly detail: string,
    message: string,
  ) {
    super(message, undefined, status === 429 || status === 502 || status === 503 || status === 504);
  }
}

const HINTS: Record<number, string> = {
  401: ' (check BATCHSCRIBE_TOKEN or --token)',
};

/**
 * Reads an error response into `<status> <type>: <detail>`, e.g.
 * `422 validation-error: The job is invalid: file_urls.3 must be an http or https URL.`
 */
export async function httpErrorFrom(res: Response): Promise<HttpError> {
  const text = await res.text().catch(() => '');
  let problemType: string | null = null;
  let detail = '';
  try {
    const problem = problemSchema.safeParse(JSON.parse(text));
    if (problem.success) {
      problemType = problem.data.type?.split('/').filter(Boolean).pop() ?? null;
      detail = problem.data.detail ?? problem.data.title ?? '';
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  if (!detail) detail = text.trim().slice(0, 200) || res.statusText || 'no details';
  const retryAfter = res.headers.get('retry-after');
  const requestId = res.status >= 500 ? res.headers.get('x-request-id') : null;
  const suffix =
    (HINTS[res.status] ?? '') +
    (retryAfter && (res.status === 429 || res.status === 503) ? ` (retry after ${retryAfter}s)` : '') +
    (requestId ? ` (request id ${requestId})` : '');
  const label = problemType ?? (res.statusText || 'error').toLowerCase();
  return new HttpError(res.status, problemType, detail, `${res.status} ${label}: ${detail}${suffix}`);
}
