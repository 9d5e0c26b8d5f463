import { z } from 'zod';

/** Queue names shared by producer (api) and consumer (worker). */
export const QUEUES = {
  batches: 'batches',
  webhooks: 'webhooks',
  schedules: 'schedules',
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

/**
 * The name of the one job a large intake enqueues instead of its batches: the worker that runs
 * it enqueues them (see createJob). Its payload is the job's id, with `batch` 0.
 */
export const FAN_OUT_JOB = 'fan-out';

export function fanOutQueueJobId(jobId: string): string {
  return `${jobId}-fanout`;
}

/** Deterministic BullMQ job id, so enqueueing a batch twice is a no-op (BullMQ forbids ':'). */
export function batchQueueJobId(jobId: string, batch: number): string {
  return `${jobId}-b${batch}`;
}

/**
 * BullMQ priorities (lower runs first). Interactive batches, and every step after a batch's
 * submit (polls free task slots and cost one request), run at 1. A bulk job's k-th batch runs
 * at 2 + k, so the batches of jobs submitted later interleave with a large job's remainder
 * instead of queueing behind all of it: a 100,000-file nightly job cannot starve anyone.
 */
export const PRIORITY = { interactive: 1, open: 1, bulkBase: 2, max: 2_097_152 } as const;

export function batchPriority(priority: 'interactive' | 'bulk', position: number): number {
  return priority === 'interactive' ? PRIORITY.interactive : Math.min(PRIORITY.bulkBase + position, PRIORITY.max);
}

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

/**
 * One webhook delivery of one terminal state of a job. `finishedAt` and `round` say which
 * ending and which (re)delivery this is: a job retried and finished again, or redelivered,
 * makes the older delivery stale, and its processor stops instead of sending.
 */
export const webhookJobPayload = z.object({
  jobId: z.string(),
  finishedAt: z.string(),
  round: z.number().int().min(0),
});
export type WebhookJobPayload = z.infer<typeof webhookJobPayload>;

/** Deterministic, so the outbox moving one ending twice queues one delivery (BullMQ forbids ':'). */
export function webhookQueueJobId(p: WebhookJobPayload): string {
  return `${p.jobId}-wh-${Date.parse(p.finishedAt)}-r${p.round}`;
}

/** Name of the worker's custom back-off strategy for webhook deliveries. */
export const WEBHOOK_BACKOFF = 'webhook';

/**
 * Webhook deliveries retry on any non-2xx or timeout with exponential back-off and jitter
 * (the worker's WEBHOOK_BACKOFF strategy), over hours with the default WEBHOOK_MAX_ATTEMPTS.
 * Completed records stay a day so a repeated enqueue of the same id stays a no-op.
 */
export function webhookJobOptions(maxAttempts: number) {
  return {
    attempts: maxAttempts,
    backoff: { type: WEBHOOK_BACKOFF },
    removeOnComplete: { age: 24 * 3_600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 10_000 },
  };
}

/** One fire of a schedule (the BullMQ job scheduler's template data; id = schedule id). */
export const scheduleFirePayload = z.object({
  scheduleId: z.string(),
});
export type ScheduleFirePayload = z.infer<typeof scheduleFirePayload>;

/**
 * A fire only fails on unexpected errors (Redis): a manifest that cannot be fetched is a
 * recorded outcome, not a retry. A retried fire is safe: its job is keyed by the fire time.
 */
export const SCHEDULE_FIRE_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3_600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3_600, count: 1_000 },
} as const;
