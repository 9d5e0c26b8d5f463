import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { enqueueBatches, type BatchJobPayload, type KeyLayout, type Priority } from '@batchscribe/shared';

/** A job still pending this long after creation lost its api process between write and enqueue. */
export const INTAKE_GRACE_MS = 30_000;

/**
 * Finishes intakes an api process did not: enqueues the batches of jobs that were written but
 * never confirmed enqueued. Enqueueing is idempotent, so racing the api or another worker is safe.
 */
export async function sweepIntake(deps: {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  logger: Logger;
  now?: number;
  graceMs?: number;
}): Promise<number> {
  const now = deps.now ?? Date.now();
  const ids = await deps.redis.zrangebyscore(deps.keys.intakePending, '-inf', now - (deps.graceMs ?? INTAKE_GRACE_MS), 'LIMIT', 0, 100);
  for (const jobId of ids) {
    const [total, priority] = await deps.redis.hmget(deps.keys.job(jobId), 'b_total', 'priority');
    if (total !== null) {
      const batches = Array.from({ length: Number(total) }, (_, b) => b);
      await enqueueBatches(deps.queue, jobId, batches, (priority ?? 'bulk') as Priority);
      deps.logger.warn({ jobId, batches: batches.length }, 'intake sweeper enqueued an interrupted job');
    }
    await deps.redis.zrem(deps.keys.intakePending, jobId);
  }
  return ids.length;
}
