import { afterEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import {
  DIRECT_ENQUEUE_MAX_BATCHES,
  FAN_OUT_JOB,
  QUEUES,
  batchQueueJobId,
  fanOutBatches,
  fanOutQueueJobId,
  type BatchJobPayload,
} from '@batchscribe/shared';
import { sweepIntake } from '../../apps/worker/src/intake-sweeper.js';
import { Stack, urls } from '../support/stack.js';

/**
 * A large intake enqueues one fan-out job, not its batches; a worker enqueues them. The
 * guarantee stays that of the direct path: a 202 always leads to every batch being queued
 * once, whether the fan-out job runs, runs twice, or is lost (the intake sweeper).
 */

const BATCHES = DIRECT_ENQUEUE_MAX_BATCHES + 5;
const FILES = BATCHES * 100;

let stack: Stack | undefined;
let queue: Queue<BatchJobPayload> | undefined;
afterEach(async () => {
  await queue?.close();
  queue = undefined;
  await stack?.stop();
  stack = undefined;
});

async function startWithoutWorker(): Promise<{ s: Stack; q: Queue<BatchJobPayload> }> {
  stack = await Stack.start({ worker: false, sim: { taskDurationMs: 200 } });
  queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: stack.redis.duplicate(), prefix: stack.keys.bullPrefix });
  return { s: stack, q: queue };
}

/** The queue's jobs by id, whatever their state. */
async function queuedIds(q: Queue<BatchJobPayload>): Promise<string[]> {
  const jobs = await q.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
  return jobs.map((j) => j.id!).sort();
}

const batchIds = (jobId: string) => Array.from({ length: BATCHES }, (_, b) => batchQueueJobId(jobId, b)).sort();

describe('fan-out of a large intake', () => {
  it('when a job of more batches than the request enqueues itself is accepted, then one fan-out job is queued and a worker queues every batch', async () => {
    const { s, q } = await startWithoutWorker();
    const created = await s.submit({ file_urls: urls(FILES, 'fan') });
    expect(created.batches.total).toBe(BATCHES);
    const [only] = await q.getJobs(['prioritized', 'waiting']);
    expect(await queuedIds(q)).toEqual([fanOutQueueJobId(created.id)]);
    expect(only?.name).toBe(FAN_OUT_JOB);
    expect(await s.redis.zscore(s.keys.intakePending, created.id)).not.toBeNull();

    await s.startWorker();
    const job = await s.waitForJob(created.id, undefined, 60_000);
    expect(job.status).toBe('completed');
    expect(job.counts.completed).toBe(FILES);
    // Each batch was submitted once: the fan-out queued each once.
    expect(s.sim.stats().submissions).toBe(BATCHES);
    expect(await s.redis.zscore(s.keys.intakePending, created.id)).toBeNull();
  });

  it('when the fan-out runs twice, then every batch is on the queue once', async () => {
    const { s, q } = await startWithoutWorker();
    const created = await s.submit({ file_urls: urls(FILES, 'twice') });
    const deps = { redis: s.redis, keys: s.keys, queue: q };
    expect(await fanOutBatches(deps, created.id)).toBe(BATCHES);
    expect(await fanOutBatches(deps, created.id)).toBe(BATCHES);
    expect((await queuedIds(q)).filter((id) => id !== fanOutQueueJobId(created.id))).toEqual(batchIds(created.id));
    expect(await s.redis.zscore(s.keys.intakePending, created.id)).toBeNull();
  });

  it('when the fan-out job is lost, then the intake sweeper queues every batch', async () => {
    const { s, q } = await startWithoutWorker();
    const created = await s.submit({ file_urls: urls(FILES, 'lost') });
    await q.remove(fanOutQueueJobId(created.id));
    expect(await queuedIds(q)).toEqual([]);
    await sweepIntake({ redis: s.redis, keys: s.keys, queue: q, logger: pino({ level: 'silent' }), graceMs: 0 });
    expect(await queuedIds(q)).toEqual(batchIds(created.id));
    expect(await s.redis.zscore(s.keys.intakePending, created.id)).toBeNull();
  });

  it('when the job is deleted before its fan-out runs, then the fan-out queues nothing', async () => {
    const { s, q } = await startWithoutWorker();
    const created = await s.submit({ file_urls: urls(FILES, 'gone') });
    await s.request('POST', `/v1/jobs/${created.id}/cancel`);
    expect((await s.request('DELETE', `/v1/jobs/${created.id}`)).status).toBe(204);
    expect(await fanOutBatches({ redis: s.redis, keys: s.keys, queue: q }, created.id)).toBeNull();
    expect(await queuedIds(q)).toEqual([fanOutQueueJobId(created.id)]);
  });

  it('when a job fits the direct path, then its batches are on the queue before the 202 and no fan-out job exists', async () => {
    const { s, q } = await startWithoutWorker();
    const created = await s.submit({ file_urls: urls(DIRECT_ENQUEUE_MAX_BATCHES * 100, 'direct') });
    const ids = await queuedIds(q);
    expect(ids).toHaveLength(DIRECT_ENQUEUE_MAX_BATCHES);
    expect(ids).not.toContain(fanOutQueueJobId(created.id));
    expect(await s.redis.zscore(s.keys.intakePending, created.id)).toBeNull();
  });
});
