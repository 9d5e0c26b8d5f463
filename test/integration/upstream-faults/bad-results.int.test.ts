import { afterEach, describe, expect, it } from '@jest/globals';
import { isTerminal, urls } from '../../support/stack.js';
import { start, faults, allResults, expectNothingLeftOpen, expectAllTranscribed, stopFaultStack } from '../../support/upstream-faults.js';

/*
 * foxapi misbehaving, end to end (real api, worker(s) and Redis; the simulator injects the fault).
 * A completed task whose results are missing, unparsable or partly failed fails only the files concerned, and never crashes the worker.
 */

afterEach(stopFaultStack);

describe('bad or missing results (decisions 1 and 2)', () => {
  it('when a completed task has an unparsable result, then the file fails upstream_unparsable_result and the worker goes on with the next job', async () => {
    const s = await start();
    const garbage = await s.submit({ file_urls: ['https://m.example.com/sim-garbage-1.wav'] });
    const bad = await s.waitForJob(garbage.id);
    expect(bad.status).toBe('failed');
    expect(bad.error).toBeNull();
    const [result] = await allResults(s, garbage.id);
    expect(result).toMatchObject({ status: 'failed', transcript: null, error: { code: 'upstream_unparsable_result' } });
    expect(await s.transcripts.readTaskAnswer(garbage.id, 0)).toContain('sim-garbage-1');

    const files = urls(2, 'after-garbage');
    const next = await s.submit({ file_urls: files });
    const good = await s.waitForJob(next.id);
    expect(good.status).toBe('completed');
    expectAllTranscribed(await allResults(s, next.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(2);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when a task never ends, then after TASK_TIMEOUT_MS its files fail upstream_timeout and the job is failed', async () => {
    const s = await start({ workerEnv: { TASK_TIMEOUT_MS: '1500' } });
    const created = await s.submit({ file_urls: ['https://m.example.com/sim-never.wav', 'https://m.example.com/plain.wav'] });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2 });
    const results = await allResults(s, created.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_timeout', 'upstream_timeout']);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.polls).toBeGreaterThanOrEqual(1);
    expect(st.tasks[0]?.status).toBe('processing');
    await expectNothingLeftOpen(s);
  });

  it('when transcript downloads get 500 twice, then they are fetched again and the job completes with every transcript', async () => {
    const s = await start({ sim: faults({ route: 'download', status: 500, times: 2, retryAfterS: 1 }) });
    const files = urls(3, 'dl');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 3, completed: 3, failed: 0 });
    expectAllTranscribed(await allResults(s, created.id), files);
    for (const i of [0, 1, 2]) {
      const txt = await s.request('GET', `/v1/jobs/${created.id}/files/${i}/transcript?format=txt`);
      expect(txt.status).toBe(200);
    }

    const st = s.sim.stats();
    expect(st.faultsInjected).toBe(2);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(st.downloads).toBeGreaterThanOrEqual(3);
    expect(st.downloads).toBeLessThanOrEqual(6);
    expect(st.downloadsWithAuth).toBe(0);
    await expectNothingLeftOpen(s);
  });
});
