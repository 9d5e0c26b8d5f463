import { afterEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUES, batchQueueJobId, type Job } from '@batchscribe/shared';
import { Stack, TOKENS, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('priority lanes and fairness', () => {
  it('when a 1-file interactive job and another tenant’s small bulk job arrive behind a 20,000-file bulk job, then both finish long before it', async () => {
    stack = await Stack.start({
      sim: { taskDurationMs: 400 },
      workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '4', WORKER_CONCURRENCY: '8' },
      apiEnv: { MAX_FILES_PER_JOB: '20000' },
    });
    const big = await stack.submit({ file_urls: urls(20_000, 'nightly') });
    expect(big.priority).toBe('bulk');
    await stack.waitForJob(big.id, (j) => j.batches.completed >= 4);

    const interactive = await stack.submit({ file_urls: urls(1, 'urgent') });
    expect(interactive.priority).toBe('interactive');
    const otherTenant = await stack.submit({ file_urls: urls(300, 'globex') }, TOKENS.globex);

    const urgentDone = await stack.waitForJob(interactive.id);
    const bigWhenUrgentDone = (await stack.request<{ batches: { completed: number } }>('GET', `/v1/jobs/${big.id}`)).body;
    // Bounded scheduling rounds: a handful of big batches (those already open or next in line), not 196.
    expect(urgentDone.status).toBe('completed');
    expect(bigWhenUrgentDone.batches.completed).toBeLessThan(20);

    const globexJob = await waitFor(
      async () => {
        const res = await stack!.request<Job>('GET', `/v1/jobs/${otherTenant.id}`, { token: TOKENS.globex });
        return res.body.status === 'completed' ? res.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the other tenant’s job' },
    );
    expect(globexJob.counts.completed).toBe(300);
    const bigAfter = (await stack.request<{ batches: { completed: number } }>('GET', `/v1/jobs/${big.id}`)).body;
    expect(bigAfter.batches.completed).toBeLessThan(40);
    await stack.request('POST', `/v1/jobs/${big.id}/cancel`);
  }, 90_000);

  it('when a job of several batches asks for priority interactive, then all its batches queue in the interactive lane, ahead of a bulk job’s', async () => {
    stack = await Stack.start({ worker: false });
    const asked = await stack.submit({ file_urls: urls(250, 'asked'), priority: 'interactive' });
    const bulk = await stack.submit({ file_urls: urls(250, 'bulk') });
    expect(asked.priority).toBe('interactive');
    expect(bulk.priority).toBe('bulk');

    const connection = new Redis(process.env.REDIS_URL!);
    const queue = new Queue(QUEUES.batches, { connection, prefix: stack.keys.bullPrefix });
    try {
      const priorities = async (id: string) =>
        Promise.all([0, 1, 2].map(async (b) => (await queue.getJob(batchQueueJobId(id, b)))?.opts.priority));
      const interactiveLane = await priorities(asked.id);
      const bulkLane = await priorities(bulk.id);
      expect(interactiveLane).toEqual([1, 1, 1]);
      // BullMQ runs lower numbers first: every batch of the interactive job goes before any of the bulk job's.
      expect(Math.max(...(interactiveLane as number[]))).toBeLessThan(Math.min(...(bulkLane as number[])));
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
