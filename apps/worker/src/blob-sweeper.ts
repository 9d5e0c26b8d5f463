import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { BlobReferences, FoxapiBudget, jobExists, releaseJobBlobs, type KeyLayout, type TranscriptStore } from '@batchscribe/shared';

/**
 * Deletes the transcripts of jobs Redis no longer knows: jobs that expired (JOB_RETENTION_S),
 * and any a crash left behind (a delete cut short between its Redis step and its blob step).
 * Works the same on both blob stores, so it needs no bucket lifecycle rule. One worker sweeps
 * per interval (a lock in Redis); a second sweep at once would only repeat idempotent deletes.
 *
 * Safe against live jobs: a job's record is written before any of its transcripts, and it
 * stays until the job expires or is deleted. The blobs of a gone job that later jobs completed
 * files from (reuse) stay while any of those lives, and are looked at again on every pass.
 */
export async function sweepBlobs(deps: {
  redis: Redis;
  keys: KeyLayout;
  transcripts: TranscriptStore;
  logger: Logger;
  /** How long the sweep lock is held: the interval, so workers do not repeat each other's sweep. */
  lockMs: number;
}): Promise<{ swept: boolean; jobsDeleted: number; objectsDeleted: number }> {
  const { redis, keys, transcripts, logger } = deps;
  if (!(await new FoxapiBudget(redis, keys).lockBlobSweep(String(process.pid), deps.lockMs)))
    return { swept: false, jobsDeleted: 0, objectsDeleted: 0 };
  let jobsDeleted = 0;
  let objectsDeleted = 0;
  const refs = new BlobReferences(redis, keys);
  for await (const jobId of transcripts.jobIds()) {
    if (await jobExists(redis, keys, jobId)) continue;
    const released = await releaseJobBlobs({ refs, transcripts }, jobId);
    if (released.keptFor.length > 0) continue;
    objectsDeleted += released.deleted;
    jobsDeleted++;
    logger.info({ jobId }, 'blob sweeper deleted the transcripts of a job that is gone');
  }
  return { swept: true, jobsDeleted, objectsDeleted };
}
