import { afterEach, describe, expect, it } from '@jest/globals';
import { type Job } from '@batchscribe/shared';
import { isTerminal, urls } from '../../support/stack.js';
import {
  start,
  faults,
  answered,
  allResults,
  expectNothingLeftOpen,
  SimWatch,
  expectAllTranscribed,
  stopFaultStack,
} from '../../support/upstream-faults.js';

/*
 * foxapi misbehaving, end to end (real api, worker(s) and Redis; the simulator injects the fault).
 * A submit that may have created a task (5xx or a timeout after sending) is not repeated unless SUBMIT_RETRY_AMBIGUOUS allows it.
 */

afterEach(stopFaultStack);

describe('ambiguous submits: 5xx and timeouts (docs/upstream.md, "Submitting without idempotency")', () => {
  const cases = [
    { retry: 'false', createTaskAnyway: false, outcome: 'failed', tasks: 0, dups: 0 },
    { retry: 'false', createTaskAnyway: true, outcome: 'failed', tasks: 1, dups: 0 },
    { retry: 'true', createTaskAnyway: false, outcome: 'completed', tasks: 1, dups: 0 },
    { retry: 'true', createTaskAnyway: true, outcome: 'completed', tasks: 2, dups: 3 },
  ] as const;

  it.each(cases)(
    'when a submit gets 500 (task created anyway: $createTaskAnyway) and SUBMIT_RETRY_AMBIGUOUS=$retry, then the job is $outcome with $tasks foxapi task(s) and $dups duplicate URL submissions',
    async ({ retry, createTaskAnyway, outcome, tasks, dups }) => {
      const s = await start({
        workerEnv: { SUBMIT_RETRY_AMBIGUOUS: retry },
        sim: faults({ route: 'submit', status: 500, times: 1, retryAfterS: 1, createTaskAnyway }),
      });
      const files = urls(3, `amb-${retry}-${createTaskAnyway}`);
      const created = await s.submit({ file_urls: files });

      const job = await s.waitForJob(created.id, isTerminal, 25_000);
      expect(job.status).toBe(outcome);
      const results = await allResults(s, created.id);
      if (outcome === 'failed') {
        expect(job.counts).toMatchObject({ total: 3, failed: 3, completed: 0 });
        expect(job.batches).toMatchObject({ total: 1, failed: 1 });
        expect(results.map((r) => r.error?.code)).toEqual([
          'upstream_submit_ambiguous',
          'upstream_submit_ambiguous',
          'upstream_submit_ambiguous',
        ]);
        expect(results.every((r) => r.status === 'failed' && r.transcript === null)).toBe(true);
      } else {
        expectAllTranscribed(results, files);
      }

      const st = s.sim.stats();
      expect(answered(st, 500)).toBe(1);
      expect(st.submissions).toBe(tasks);
      expect(st.duplicateSubmissions).toBe(dups);
      // A task created behind a 500 is unknown to batchscribe: it is never polled.
      if (createTaskAnyway) expect(st.tasks.filter((t) => t.polls === 0)).toHaveLength(1);
      if (outcome === 'failed') expect(st.polls).toBe(0);
      await expectNothingLeftOpen(s);
    },
  );

  it('when an ambiguous 500 carries Retry-After and SUBMIT_RETRY_AMBIGUOUS=true, then the resubmit waits Retry-After, not the default 5–10 s back-off', async () => {
    const s = await start({
      workerEnv: { SUBMIT_RETRY_AMBIGUOUS: 'true' },
      sim: faults({ route: 'submit', status: 500, times: 1, retryAfterS: 1 }),
    });
    const watch = new SimWatch(s);
    const created = await s.submit({ file_urls: urls(1, 'amb-ra') });
    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(s.sim.stats().submissions).toBe(1);
    const gap = watch.firstAt((x) => x.submissions >= 1, 'a task') - watch.firstAt((x) => answered(x, 500) >= 1, 'a 500');
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(4_000);
    await expectNothingLeftOpen(s);
  });

  it('when a job failed with upstream_submit_ambiguous, then POST /retry sends its files once more and the job completes', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 500, times: 1 }) });
    const files = urls(2, 'amb-retry');
    const created = await s.submit({ file_urls: files });
    const failed = await s.waitForJob(created.id);
    expect(failed.status).toBe('failed');
    expect(s.sim.stats().submissions).toBe(0);

    const retried = await s.request<Job>('POST', `/v1/jobs/${created.id}/retry`);
    expect(retried.status).toBe(202);
    const job = await s.waitForJob(
      created.id,
      (j) => isTerminal(j) && j.counts.queued === 0 && j.counts.submitted === 0 && j.status !== 'failed',
      15_000,
    );
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 2, completed: 2, failed: 0 });
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when a submit hangs past FOXAPI_TIMEOUT_MS, then it is ambiguous: the batch fails upstream_submit_ambiguous and is not resent', async () => {
    const s = await start({ workerEnv: { FOXAPI_TIMEOUT_MS: '1000' }, sim: faults({ route: 'submit', status: 0, times: 1 }) });
    const created = await s.submit({ file_urls: urls(2, 'submithang') });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2 });
    const results = await allResults(s, created.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_submit_ambiguous', 'upstream_submit_ambiguous']);

    const st = s.sim.stats();
    expect(st.requests).toBe(1);
    expect(answered(st, 0)).toBe(1);
    expect(st.submissions).toBe(0);
    expect(st.polls).toBe(0);
    await expectNothingLeftOpen(s);
  });
});
