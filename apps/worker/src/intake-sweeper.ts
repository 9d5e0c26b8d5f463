import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  clearIntakePending,
  enqueueBatches,
  stalledIntakes,
  type BatchJobPayload,
  type JobStore,
  type KeyLayout,
} from '@batchscribe/shared';

/** A job still pending this long after creation lost its api process between write and enqueue. */
export const INTAKE_GRACE_MS = 30_000;

/**
 * Finishes intakes an api process did not: enqueues the batches of jobs that were written but
 * never confirmed enqueued. Enqueueing is idempotent, so racing the api or another worker is safe.
 * With `jobs`, it also finishes the chunked cancels, retries and deletes whose caller died half-way.
 */
export async function sweepIntake(deps: {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  logger: Logger;
  jobs?: JobStore;
  now?: number;
  graceMs?: number;
}): Promise<number> {
  const now = deps.now ?? Date.now();
  const grace = deps.graceMs ?? INTAKE_GRACE_MS;
  const stalled = await stalledIntakes(deps.redis, deps.keys, now - grace);
  for (const { jobId, batches, priority } of stalled) {
    if (batches !== null) {
      const all = Array.from({ length: batches }, (_, b) => b);
      await enqueueBatches(deps.queue, jobId, all, priority);
      deps.logger.warn({ jobId, batches: all.length }, 'intake sweeper enqueued an interrupted job');
    }
    await clearIntakePending(deps.redis, deps.keys, jobId);
  }
  if (deps.jobs) {
    const resumed = await deps.jobs.resumeStale(grace, now);
    if (resumed > 0) deps.logger.warn({ jobs: resumed }, 'intake sweeper finished interrupted job actions (cancel, retry, delete)');
  }
  return stalled.length;
}
