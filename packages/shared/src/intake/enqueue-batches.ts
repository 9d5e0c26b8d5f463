import type { Queue } from 'bullmq';
import { BATCH_JOB_OPTIONS, FAN_OUT_JOB, PRIORITY, batchPriority, batchQueueJobId, fanOutQueueJobId, type BatchJobPayload } from '../queues.js';
import type { Priority } from '../domain/job.js';

/**
 * Puts a job's batches on the batch queue. Job ids are deterministic, so calling this twice
 * (the api after a crash, the intake sweeper) adds each batch once.
 */
export async function enqueueBatches(
  queue: Queue<BatchJobPayload>,
  jobId: string,
  batches: readonly number[],
  priority: Priority,
): Promise<void> {
  const chunk = 1_000;
  for (let i = 0; i < batches.length; i += chunk) {
    await queue.addBulk(
      batches.slice(i, i + chunk).map((batch, k) => ({
        name: 'batch',
        data: { jobId, batch },
        opts: { ...BATCH_JOB_OPTIONS, jobId: batchQueueJobId(jobId, batch), priority: batchPriority(priority, i + k) },
      })),
    );
  }
}

/**
 * Puts the one fan-out job of a large intake on the batch queue, ahead of every batch: the
 * worker that runs it enqueues the batches (fanOutBatches). Deterministic id: adding it twice adds it once.
 */
export async function enqueueFanOut(queue: Queue<BatchJobPayload>, jobId: string): Promise<void> {
  await queue.add(FAN_OUT_JOB, { jobId, batch: 0 }, { ...BATCH_JOB_OPTIONS, jobId: fanOutQueueJobId(jobId), priority: PRIORITY.interactive });
}
