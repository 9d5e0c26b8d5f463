import { UrlListBytes, type FileInput, type JobRequest, type UploadRefusal, type UploadStore } from '@batchscribe/shared';
import { ProblemError, type FieldError } from '../http/problem.js';
import type { IntakeRequest } from './intake.js';

/** At most this many bad upload ids are listed in one 422 (as for other field errors). */
const MAX_LISTED = 50;

const REFUSAL_MESSAGES: Record<Exclude<UploadRefusal, 'foreign'>, string> = {
  // Another tenant's upload reads as unknown: the answer must not tell that it exists.
  unknown: 'is not an upload of yours (no such upload)',
  unfinished: 'is still uploading: finish it (tus PATCH to its last byte) before a job names it',
  expired: 'has expired: an upload no job uses within UPLOAD_TTL_S is deleted; upload the file again',
};

/**
 * Turns the request's `{upload_id}` entries into files from uploads: each must name a ready,
 * unexpired upload of the tenant (UploadStore.resolveReady, one round trip), else the request
 * is a 422 naming every bad `files.N.upload_id` and nothing is written. Returns the JobRequest
 * and the instant the uploads were judged at, which the job's MULTI attaches them as of
 * (writeNewJob), so one that reached its TTL in between is still the job's.
 */
export async function resolveUploads(
  uploads: UploadStore,
  tenant: string,
  intake: IntakeRequest,
  now: number,
): Promise<{ request: JobRequest; checkedAt: number }> {
  if (intake.files instanceof UrlListBytes) return { request: { ...intake, files: intake.files }, checkedAt: now };
  const named = new Set<string>();
  for (const f of intake.files) if ('upload_id' in f) named.add(f.upload_id);
  const ids = [...named];
  if (ids.length === 0) return { request: { ...intake, files: intake.files as FileInput[] }, checkedAt: now };
  const resolved = new Map((await uploads.resolveReady(tenant, ids, now)).map((r) => [r.id, r]));
  const errors: FieldError[] = [];
  const files = intake.files.map((entry, index): FileInput => {
    if (!('upload_id' in entry)) return entry;
    const found = resolved.get(entry.upload_id);
    if (!found?.ok) {
      const reason = found?.reason === 'foreign' || found === undefined ? 'unknown' : found.reason;
      errors.push({ path: `files.${index}.upload_id`, message: REFUSAL_MESSAGES[reason] });
      return { url: '' };
    }
    const { upload } = found;
    const file: FileInput = { upload: { id: upload.id, filename: upload.filename, sha256: upload.sha256 ?? '' } };
    if (entry.ref !== undefined) file.ref = entry.ref;
    return file;
  });
  if (errors.length > 0) {
    const listed = errors.slice(0, MAX_LISTED);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new ProblemError('validation-error', `The job is invalid: ${listed[0]!.path} ${listed[0]!.message}${more}.`, listed);
  }
  return { request: { ...intake, files }, checkedAt: now };
}
