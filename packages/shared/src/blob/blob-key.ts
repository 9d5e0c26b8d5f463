/** Raised for a key or prefix that no adapter may accept; nothing has been read or written. */
export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  readonly code = 'invalid_blob_key';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key)}: ${reason}`);
  }
}

export const MAX_BLOB_KEY_LENGTH = 1024;

/**
 * Names the fs adapter gives its temporary files. Reserved in every adapter, so a key that
 * works on s3 also works (and is listed) on fs.
 */
export const BLOB_TMP_PREFIX = '.tmp-';

/**
 * The rules every adapter applies, so a key means the same on disk and in a bucket: relative,
 * `/`-separated, no empty, `.` or `..` segment (which would escape DATA_DIR or alias another
 * key), no backslash or NUL (path separators and terminators on some systems).
 */
export function assertBlobKey(key: string): void {
  const reason = problemWith(key, false);
  if (reason) throw new InvalidBlobKeyError(key, reason);
}

/**
 * A prefix follows the same rules, except that it may be empty (everything) and may end in
 * `/` or in part of a segment (`jobs/job_1` matches `jobs/job_1/…` and `jobs/job_12/…`).
 */
export function assertBlobPrefix(prefix: string): void {
  const reason = problemWith(prefix, true);
  if (reason) throw new InvalidBlobKeyError(prefix, reason);
}

function problemWith(key: string, isPrefix: boolean): string | undefined {
  if (typeof key !== 'string') return 'must be a string';
  if (key === '') return isPrefix ? undefined : 'must not be empty';
  if (key.length > MAX_BLOB_KEY_LENGTH) return `must be at most ${MAX_BLOB_KEY_LENGTH} characters`;
  if (key.includes('\\')) return 'must not contain a backslash';
  if (key.includes('\0')) return 'must not contain NUL';
  if (key.startsWith('/')) return 'must be relative (no leading "/")';
  const segments = key.split('/');
  // A prefix's last segment may be empty (`jobs/`) or partial (`jobs/jo`); a key's may not be empty.
  const whole = isPrefix ? segments.slice(0, -1) : segments;
  if (whole.some((s) => s === '')) return 'must not contain an empty segment ("//" or a trailing "/")';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain a "." or ".." segment';
  if (segments.some((s) => s.startsWith(BLOB_TMP_PREFIX))) return `a segment must not start with "${BLOB_TMP_PREFIX}"`;
  return undefined;
}
