import { afterEach, describe, expect, it } from '@jest/globals';
import type { Job } from '@batchscribe/shared';
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
});
