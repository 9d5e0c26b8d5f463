import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  batchQueueJobId,
  enqueueBatches,
  webhookQueueJobId,
  type BatchJobPayload,
  type KeyLayout,
  type Priority,
  type TranscriptStore,
  ConflictError,
  DamagedRecordError,
  jobNotFound,
} from '@batchscribe/shared';
import { CANCEL_JOB, DELETE_JOB, RETRY_JOB } from './job-actions.lua.js';

export interface JobActionsDeps {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  batchSize: number;
  retentionS: number;
  /** A deleted job's transcripts go with it. */
  transcripts: TranscriptStore;
  /** The webhooks queue, whose delivery records of a deleted job go with it. */
  webhooks?: Queue;
}

/** How long delete waits for a batch's last BullMQ step, finishing as the job ended, to let go of its record. */
const RELEASE_WAIT_MS = 5_000;

/**
 * A script that found a stored record it cannot read answers `DAMAGED …` before writing
 * anything: the caller learns that the action failed and that the job is as it was.
 */
async function runScript<T>(jobId: string, action: string, run: () => Promise<unknown>): Promise<T> {
  try {
    return (await run()) as T;
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (!/^(DAMAGED|BADARGS) /.test(message)) throw err;
    throw new DamagedJobError(`The ${action} of job ${jobId} did not run: ${message.replace(/^\S+ /, '')}.`);
  }
}

/** A 500 whose detail says what could not be read and that the job was left unchanged. */
export class DamagedJobError extends DamagedRecordError {}

/** Cancel, retry and delete: each one atomic script; refusals are domain errors the api's handler maps. */
export class JobActions {
  constructor(private readonly deps: JobActionsDeps) {}

  async cancel(jobId: string, tenant: string): Promise<void> {
    const { redis, keys } = this.deps;
    const word = await runScript<string>(jobId, 'cancel', () =>
      redis.eval(
        CANCEL_JOB,
        1,
        keys.job(jobId),
        tenant,
        keys.jobKeyPrefix(jobId),
        new Date().toISOString(),
        this.deps.retentionS,
        keys.jobEvents,
        jobId,
      ),
    );
    if (word === 'missing') throw jobNotFound();
    if (word === 'finished') throw new ConflictError('The job has already finished; there is nothing to cancel.');
  }

  /** Sends only the failed files again, in new batches. */
  async retry(jobId: string, tenant: string): Promise<number> {
    const { redis, keys } = this.deps;
    const [word, first, count] = await runScript<[string, number, number]>(jobId, 'retry', () =>
      redis.eval(
        RETRY_JOB,
        2,
        keys.job(jobId),
        keys.intakePending,
        tenant,
        keys.jobKeyPrefix(jobId),
        new Date().toISOString(),
        this.deps.batchSize,
        Date.now(),
        jobId,
      ),
    );
    if (word === 'missing') throw jobNotFound();
    if (word === 'running') throw new ConflictError('The job has not finished; retry it once it has.');
    if (word === 'nothing') throw new ConflictError('No file of this job failed; there is nothing to retry.');
    const priority = ((await redis.hget(keys.job(jobId), 'priority')) ?? 'bulk') as Priority;
    await enqueueBatches(
      this.deps.queue,
      jobId,
      Array.from({ length: count }, (_, k) => first + k),
      priority,
    );
    await redis.zrem(keys.intakePending, jobId);
    await redis.publish(keys.jobEvents, jobId);
    return count;
  }

  /**
   * Removes the job's own keys in one script, then the queue's records of it: the BullMQ job of
   * each batch and the webhook deliveries of its last ending, so no key naming the job is left.
   */
  async delete(jobId: string, tenant: string): Promise<void> {
    const { redis, keys } = this.deps;
    // Read before the script deletes them; a terminal job's batch count and ending are settled.
    const [batches, finishedAt, round] = await redis.hmget(keys.job(jobId), 'b_total', 'finished_at', 'webhook_round');
    const word = await runScript<string>(jobId, 'delete', () =>
      redis.eval(DELETE_JOB, 2, keys.job(jobId), keys.tenantJobs(tenant), tenant, keys.jobKeyPrefix(jobId), jobId),
    );
    if (word === 'missing') throw jobNotFound();
    if (word === 'running') throw new ConflictError('The job is still running; cancel it first, or wait for it to finish.');
    await removeRecords(
      this.deps.queue,
      Array.from({ length: Number(batches ?? 0) }, (_, b) => batchQueueJobId(jobId, b)),
    );
    if (this.deps.webhooks && finishedAt) {
      const rounds = Array.from({ length: Number(round ?? 0) + 1 }, (_, r) => webhookQueueJobId({ jobId, finishedAt, round: r }));
      await removeRecords(this.deps.webhooks, rounds);
    }
    // After Redis: a crash before this leaves blobs of a job Redis no longer knows, which the
    // workers' blob sweeper deletes; the other order could leave a job without its transcripts.
    await this.deps.transcripts.deleteJob(jobId);
  }
}

/**
 * Queue.remove of each id; one still locked (its last step is completing as the job ended)
 * answers 0 and is tried again until it lets go. Ids the queue never had, or already dropped,
 * need nothing.
 */
async function removeRecords(queue: Queue, ids: readonly string[]): Promise<void> {
  let left = [...ids];
  const deadline = Date.now() + RELEASE_WAIT_MS;
  for (;;) {
    const removed = await Promise.all(left.map((id) => queue.remove(id)));
    const kept = left.filter((_, i) => removed[i] === 0);
    left = (await Promise.all(kept.map(async (id) => ((await queue.getJob(id)) ? id : null)))).filter((id) => id !== null);
    if (left.length === 0 || Date.now() > deadline) return;
    await sleep(50);
  }
}
