import type { Redis } from 'ioredis';
import { TERMINAL_JOB_STATUSES, type JobStatus } from '../domain/job.js';
import type { KeyLayout } from './keys.js';
import { batchScripts } from './batch-store.js';
import { uploadIdsOf } from './file-entries.js';
import type { UploadStore } from './uploads.js';

/** Home batches whose inputs one round trip reads. */
const HOMES_PER_READ = 200;

/** The batch-0 field that says the job's uploads were released (docs/architecture.md, "Jobs from uploads"). */
const RELEASED_FIELD = 'uploads_released';

/** The distinct uploads the files of a job use, read from its home batches' inputs (file-entries.ts). */
export async function jobUploadIds(redis: Redis, keys: KeyLayout, jobId: string): Promise<string[]> {
  const [total, pageRaw] = await redis.hmget(keys.job(jobId), 'f_total', 'page');
  const page = Number(pageRaw);
  if (total === null || !(page >= 1)) return [];
  const homes = Math.ceil(Number(total) / page);
  const ids = new Set<string>();
  for (let from = 0; from < homes; from += HOMES_PER_READ) {
    const pipeline = redis.pipeline();
    for (let h = from; h < Math.min(homes, from + HOMES_PER_READ); h++) pipeline.hget(keys.batch(jobId, h), 'f');
    for (const [, raw] of (await pipeline.exec()) ?? []) {
      if (typeof raw === 'string') for (const id of uploadIdsOf(raw)) ids.add(id);
    }
  }
  return [...ids];
}

/**
 * Once every file of a job has ended (the job is terminal), the media of its uploads is no
 * longer needed: each upload is released by this job, and one no other job uses falls due for
 * the upload sweeper at once. Idempotent, and cheap to call after every batch step that ended:
 * a job without uploads costs one HMGET, a job whose uploads were released one more (the mark
 * in batch 0's record, written by the guarded batch update so a deleted job is never recreated).
 * `tenant`: act only on that tenant's job (an api call). Returns how many uploads were released now.
 */
export async function releaseEndedJobUploads(
  redis: Redis,
  keys: KeyLayout,
  uploads: UploadStore,
  jobId: string,
  opts: { now?: number; tenant?: string } = {},
): Promise<number> {
  const now = opts.now ?? Date.now();
  const [status, count, owner] = await redis.hmget(keys.job(jobId), 'status', 'uploads', 'tenant');
  if (opts.tenant !== undefined && owner !== opts.tenant) return 0;
  if (!count || status == null || !TERMINAL_JOB_STATUSES.includes(status as JobStatus)) return 0;
  const first = keys.batch(jobId, 0);
  const [state, released] = await redis.hmget(first, 'state', RELEASED_FIELD);
  if (state == null || released != null) return 0;
  const ids = await jobUploadIds(redis, keys, jobId);
  for (const id of ids) await uploads.release(id, jobId, now);
  // After the releases: a crash in between releases again next time, which changes nothing.
  await batchScripts(redis).bsUpdateBatchIfState(first, state, RELEASED_FIELD, String(now));
  return ids.length;
}
