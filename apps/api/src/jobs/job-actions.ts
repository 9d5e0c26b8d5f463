import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { enqueueBatches, type BatchJobPayload, type KeyLayout, type Priority } from '@batchscribe/shared';
import { ProblemError } from '../http/problem.js';
import { CANCEL_JOB, DELETE_JOB, RETRY_JOB } from './job-actions.lua.js';

export interface JobActionsDeps {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  batchSize: number;
  retentionS: number;
}

const notFound = () => new ProblemError('not-found', 'No such job.');

/** Cancel, retry and delete: each one atomic script, mapped to api.md's status codes. */
export class JobActions {
  constructor(private readonly deps: JobActionsDeps) {}

  async cancel(jobId: string, tenant: string): Promise<void> {
    const { redis, keys } = this.deps;
    const word = (await redis.eval(
      CANCEL_JOB,
      1,
      keys.job(jobId),
      tenant,
      keys.jobKeyPrefix(jobId),
      new Date().toISOString(),
      this.deps.retentionS,
      keys.jobEvents,
      jobId,
    )) as string;
    if (word === 'missing') throw notFound();
    if (word === 'finished') throw new ProblemError('conflict', 'The job has already finished; there is nothing to cancel.');
  }

  /** Sends only the failed files again, in new batches. */
  async retry(jobId: string, tenant: string): Promise<number> {
    const { redis, keys } = this.deps;
    const [word, first, count] = (await redis.eval(
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
    )) as [string, number, number];
    if (word === 'missing') throw notFound();
    if (word === 'running') throw new ProblemError('conflict', 'The job has not finished; retry it once it has.');
    if (word === 'nothing') throw new ProblemError('conflict', 'No file of this job failed; there is nothing to retry.');
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

  async delete(jobId: string, tenant: string): Promise<void> {
    const { redis, keys } = this.deps;
    const word = (await redis.eval(
      DELETE_JOB,
      2,
      keys.job(jobId),
      keys.tenantJobs(tenant),
      tenant,
      keys.jobKeyPrefix(jobId),
      jobId,
    )) as string;
    if (word === 'missing') throw notFound();
    if (word === 'running') throw new ProblemError('conflict', 'The job is still running; cancel it first, or wait for it to finish.');
  }
}
