import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ErrorInfo, FileRecord } from '../domain/job.js';
import type { KeyLayout } from './keys.js';
import { STATUS_LETTERS, packInputs } from './file-entries.js';

/**
 * Releases before the packed data model kept one JSON record per file in a hash per job
 * (`…:job:<id>:files`, index → `{u, r, b, s, t, e}`), and listed each batch's file indexes in
 * its record. This packs such a job's files into its home batches (file-entries.ts) and then,
 * in one MULTI, gives the job its `page` and drops the old hash. Until that last step the job
 * reads as damaged and its steps are retried by BullMQ, so nothing runs on half-moved state;
 * a crash before it repeats the packing from the old hash, which is still whole.
 * Idempotent, and cheap once nothing is left (one SCAN of the key space). Run at worker start,
 * after the workers of the older release are stopped (README, "Upgrading").
 */
export async function migrateLegacyFiles(deps: {
  redis: Redis;
  keys: KeyLayout;
  logger: Logger;
}): Promise<{ jobs: number; files: number }> {
  const { redis, keys, logger } = deps;
  const marker = keys.jobKeyPrefix('*');
  let cursor = '0';
  let jobs = 0;
  let files = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${marker}:files`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const jobId = key.slice(marker.length - 1, -':files'.length);
      const moved = await packJob(redis, keys, jobId, key);
      if (moved === null) continue;
      jobs++;
      files += moved;
      logger.info({ jobId, files: moved }, 'packed the file records of a job into its batch records');
    }
  } while (cursor !== '0');
  return { jobs, files };
}

/** Home batches packed per round trip: bounded memory whatever the job's size. */
const HOMES_PER_ROUND = 20;

async function packJob(redis: Redis, keys: KeyLayout, jobId: string, filesKey: string): Promise<number | null> {
  const [total, page0] = await Promise.all([redis.hget(keys.job(jobId), 'f_total'), redis.hget(keys.batch(jobId, 0), 'files')]);
  if (total === null || page0 === null) {
    // The job itself is gone (expired before its files hash): nothing to keep.
    await redis.unlink(filesKey);
    return null;
  }
  const files = Number(total);
  // Intake made batch b of files b×size … (b+1)×size-1: batch 0's list is a full batch unless the job is smaller.
  const page = Math.max(1, (JSON.parse(page0) as number[]).length);
  const homes = Math.ceil(files / page);
  for (let from = 0; from < homes; from += HOMES_PER_ROUND) {
    const to = Math.min(homes, from + HOMES_PER_ROUND);
    const indexes = Array.from({ length: Math.min(files, to * page) - from * page }, (_, k) => String(from * page + k));
    const raw = await redis.hmget(filesKey, ...indexes);
    const multi = redis.multi();
    for (let h = from; h < to; h++) {
      const records = raw.slice((h - from) * page, (h - from + 1) * page).map((r, k) => {
        if (r === null) throw new Error(`file ${h * page + k} of job ${jobId} has no record to migrate`);
        return JSON.parse(r) as FileRecord;
      });
      multi.hset(keys.batch(jobId, h), homeFields(h, page, records));
      multi.hdel(keys.batch(jobId, h), 'files');
    }
    await multi.exec();
  }
  await redis.multi().hset(keys.job(jobId), 'page', page).unlink(filesKey).exec();
  return files;
}

function homeFields(home: number, page: number, records: FileRecord[]): Record<string, string | number> {
  const errors: Record<string, ErrorInfo> = {};
  const via: Record<string, number> = {};
  records.forEach((r, offset) => {
    if (r.e !== undefined && r.s === 'failed') errors[offset] = r.e;
    if (r.b !== home) via[offset] = r.b;
  });
  const fields: Record<string, string | number> = {
    first: home * page,
    n: records.length,
    // Records of those releases named URLs only (uploads came later).
    f: packInputs(records.map((r) => (r.r === undefined ? { url: r.u ?? '' } : { url: r.u ?? '', ref: r.r }))),
    st: records.map((r) => STATUS_LETTERS[r.s]).join(''),
  };
  if (Object.keys(errors).length > 0) fields.err = JSON.stringify(errors);
  if (Object.keys(via).length > 0) fields.via = JSON.stringify(via);
  return fields;
}
