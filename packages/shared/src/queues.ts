import { z } from 'zod';

/** Queue names shared by producer (api) and consumer (worker). */
export const QUEUES = {
  batches: 'batches',
} as const;

/**
 * Payload of one BullMQ job = one batch. Only identifiers: the batch's state lives in its
 * intent record in Redis, so a retried or duplicated BullMQ job always sees the truth.
 */
export const batchJobPayload = z.object({
  jobId: z.string(),
  batch: z.number().int().min(0),
});
export type BatchJobPayload = z.infer<typeof batchJobPayload>;

/** Deterministic BullMQ job id, so enqueueing a batch twice is a no-op (BullMQ forbids ':'). */
export function batchQueueJobId(jobId: string, batch: number): string {
  return `${jobId}-b${batch}`;
}

/** BullMQ priorities: lower runs first. */
export const PRIORITY = { interactive: 1, bulk: 10 } as const;

/**
 * Defaults for every batch job. The processor is idempotent (state lives in the intent record),
 * so retries are safe; they are for unexpected errors only — upstream back-off is done by
 * delaying the job, which costs no attempt. Finished BullMQ records are dropped after an hour
 * (the batch's own record is the history), failed ones kept a week for the dashboard.
 */
export const BATCH_JOB_OPTIONS = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 },
  removeOnComplete: { age: 3_600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
} as const;
