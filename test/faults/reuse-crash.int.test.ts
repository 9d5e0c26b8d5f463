import { describe, expect, it } from '@jest/globals';
import { FaultStack, newObservations, urlList, withDeadline } from '../support/fault-stack.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/*
 * docs/architecture.md, "Reuse": a worker that dies right after REUSE_SPLIT moved a repeated file
 * into a batch of its own, before that batch is on the queue. The split put the job on intake
 * pending, so the intake sweeper of the next worker enqueues it; every URL is still sent once.
 */

const track = stopAfterEach();

describe('worker SIGKILLed after a reuse split', () => {
  it('when a worker dies before the batch of waiting repeats is enqueued, then the next worker finishes the job, sending each URL once', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: 300 } }));
    await s.diagnose(async () => {
      const workerA = await s.startApiAndWorker({ BATCHSCRIBE_CRASH_AT: 'after-reuse-split', WORKER_CONCURRENCY: '1' }, 'workerA');
      const [a, b, c] = urlList(3, 'reuse-crash');
      const res = await s.request<{ id: string }>('POST', '/v1/jobs', { body: JSON.stringify({ file_urls: [a, b, a, c], reuse: true }) });
      expect(res.status).toBe(202);
      const jobId = res.body.id;
      const obs = newObservations();
      await s.waitForJob(jobId, obs, { done: () => !workerA.alive, timeoutMs: 30_000 });
      expect(await withDeadline(workerA.exited, 5_000, 'worker A crashing after the split')).toEqual({ code: null, signal: 'SIGKILL' });

      // The split happened (file 2 waits in batch 1), batch 1 is on no queue, the job on intake pending.
      expect(await s.batchStates(jobId, 2)).toEqual(['queued', 'queued']);
      expect(await s.bullJobExists(jobId, 1)).toBe(false);
      expect(await s.admin.zscore(s.keys.intakePending, jobId)).not.toBeNull();
      expect(s.sim.stats().submissions).toBe(0);

      await s.startWorker({ INTAKE_GRACE_MS: '1000', INTAKE_SWEEP_MS: '200' }, 'workerB');
      const job = await s.waitForJob(jobId, obs, { timeoutMs: 60_000 });
      expect(obs.broken).toEqual([]);
      expect(job).toMatchObject({
        status: 'completed',
        counts: { total: 4, completed: 4 },
        batches: { total: 2, completed: 2 },
        usage: { reused_files: 1 },
      });
      expect(s.sim.stats().submittedUrls).toEqual({ [a!]: 1, [b!]: 1, [c!]: 1 });
      const results = await s.allResults(jobId);
      expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
      expect(await s.admin.zcard(s.keys.intakePending)).toBe(0);
    });
  }, 120_000);
});
