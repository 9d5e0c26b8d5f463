import { afterEach, describe, expect, it } from '@jest/globals';
import { type Job } from '@batchscribe/shared';
import { isTerminal, urls } from '../../support/stack.js';
import {
  start,
  faults,
  answered,
  allResults,
  getJob,
  expectNothingLeftOpen,
  holdsFor,
  expectAllTranscribed,
  stopFaultStack,
} from '../../support/upstream-faults.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * foxapi misbehaving, end to end (real api, worker(s) and Redis; the simulator injects the fault).
 * 401 and 402 on submit: submits pause for every batch (why is shown), and no batch is failed for a 402.
 */

afterEach(stopFaultStack);

describe('401 and 402 on submit (docs/upstream.md, "Reacting to errors": pause submits)', () => {
  it('when foxapi answers 401, then the job fails with upstream_auth, submits pause, and a second job is not sent while paused', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 401, times: 1 }) });
    const first = await s.submit({ file_urls: urls(2, 'auth') });

    const job = await s.waitForJob(first.id);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('upstream_auth');
    expect(job.counts).toMatchObject({ total: 2, failed: 2, completed: 0 });
    const results = await allResults(s, first.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_auth', 'upstream_auth']);

    expect(await s.redis.get(s.keys.submitPause)).toBe('upstream_auth');
    const ttl = await s.redis.pttl(s.keys.submitPause);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const before = s.sim.stats();
    expect(before.submissions).toBe(0);
    expect(answered(before, 401)).toBe(1);

    const second = await s.submit({ file_urls: urls(1, 'auth-next') });
    await holdsFor(1_500, async () => {
      const st = s.sim.stats();
      // No submit goes out while paused. (The workers' access check, a read of a task that
      // cannot exist, may run meanwhile: it creates and costs nothing.)
      if (st.submissions !== before.submissions) return `foxapi got ${st.submissions - before.submissions} more submission(s)`;
      const j = await getJob(s, second.id);
      return j.status === 'queued' && j.counts.queued === 1 && j.error === null
        ? null
        : `second job is ${j.status}, error ${JSON.stringify(j.error)}`;
    });

    // Clean up the job that waits out the pause: a cancel settles queued batches at once.
    expect((await s.request('POST', `/v1/jobs/${second.id}/cancel`)).status).toBe(202);
    expect((await s.waitForJob(second.id)).status).toBe('cancelled');
    expect(s.sim.stats().submissions).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when foxapi answers 402, then nothing is failed and submits pause with upstream_insufficient_quota', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 402, times: 1 }) });
    const created = await s.submit({ file_urls: urls(2, 'quota') });

    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) === 'upstream_insufficient_quota' ? true : undefined), {
      what: 'the quota pause',
    });
    const ttl = await s.redis.pttl(s.keys.submitPause);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await holdsFor(1_000, async () => {
      const j = await getJob(s, created.id);
      return j.status === 'queued' && j.counts.queued === 2 && j.counts.failed === 0 && j.error === null
        ? null
        : `job is ${j.status} ${JSON.stringify(j.counts)}`;
    });
    const results = await allResults(s, created.id);
    expect(results.every((r) => r.status === 'queued' && r.error === null)).toBe(true);
    const st = s.sim.stats();
    expect(st.submissions).toBe(0);
    expect(answered(st, 402)).toBe(1);
    expect(st.requests).toBe(1);

    expect((await s.request('POST', `/v1/jobs/${created.id}/cancel`)).status).toBe(202);
    expect((await s.waitForJob(created.id)).status).toBe('cancelled');
    await expectNothingLeftOpen(s);
  });

  it('when submits are paused by a 402, then the Job says why its files wait', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 402, times: 1 }) });
    const created = await s.submit({ file_urls: urls(1, 'quota-why') });
    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) ? true : undefined), { what: 'the quota pause' });

    const job = (await getJob(s, created.id)) as Job & { waiting_reason?: { code: string; message: string } | null };
    expect(job.status).toBe('queued');
    expect(job.waiting_reason?.code).toBe('upstream_insufficient_quota');
    expect(job.waiting_reason?.message).toMatch(/402|balance|quota/i);
    const listed = await s.request<{ data: Array<Job & { waiting_reason?: { code: string } | null }> }>('GET', '/v1/jobs');
    expect(listed.body.data.find((j) => j.id === created.id)?.waiting_reason?.code).toBe('upstream_insufficient_quota');

    expect((await s.request('POST', `/v1/jobs/${created.id}/cancel`)).status).toBe(202);
    const cancelled = (await s.waitForJob(created.id)) as Job & { waiting_reason?: unknown };
    expect(cancelled.waiting_reason ?? null).toBeNull();
    await expectNothingLeftOpen(s);
  });

  it('when the operator resumes after a 402 (pause key deleted, balance topped up), then the waiting job is submitted within seconds and completes', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 402, times: 1 }) });
    const files = urls(2, 'quota-resume');
    const created = await s.submit({ file_urls: files });
    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) ? true : undefined), { what: 'the quota pause' });

    await s.redis.del(s.keys.submitPause);
    const job = await s.waitForJob(created.id, isTerminal, 10_000);
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(answered(st, 402)).toBe(1);
    await expectNothingLeftOpen(s);
  });

  it('when a 402 pause runs out, then the next submit probes foxapi by itself and the waiting job completes', async () => {
    const s = await start({
      sim: faults({ route: 'submit', status: 402, times: 1 }),
      workerEnv: { SUBMIT_PAUSE_MS: '1000', SUBMIT_PAUSE_RECHECK_MS: '200' },
    });
    const files = urls(2, 'quota-probe');
    const created = await s.submit({ file_urls: files });
    await waitFor(async () => ((await s.redis.get(s.keys.submitPause)) ? true : undefined), { what: 'the quota pause' });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 402)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });
});
