import { afterEach, describe, expect, it } from '@jest/globals';
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
 * foxapi answers 500 or 503, or hangs, while a task is polled: the batch backs off and polls the same task again, never resubmitting it.
 */

afterEach(stopFaultStack);

describe('500 / 503 / hang on poll (docs/upstream.md, "Reacting to errors": back off and poll again)', () => {
  it('when polls get 500, 500, 503 with Retry-After, then the batch backs off each time, is never resubmitted, and the job completes', async () => {
    const s = await start({
      sim: faults({ route: 'poll', status: 500, times: 2, retryAfterS: 1 }, { route: 'poll', status: 503, times: 1, retryAfterS: 1 }),
    });
    const watch = new SimWatch(s);
    const files = urls(3, 'poll5xx');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 20_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 3, completed: 3, failed: 0 });
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(answered(st, 500)).toBe(2);
    expect(answered(st, 503)).toBe(1);
    expect(st.polls).toBeGreaterThanOrEqual(1);
    // Each failed poll was followed by a Retry-After pause before the next one.
    const errors = [...watch.answersOf(500), ...watch.answersOf(503)].sort((a, b) => a - b);
    const firstGoodPoll = watch.firstAt((x) => x.polls >= 1, 'an answered poll');
    const marks = [...errors, firstGoodPoll];
    for (let i = 1; i < marks.length; i++) expect(marks[i]! - marks[i - 1]!).toBeGreaterThanOrEqual(900);
    await expectNothingLeftOpen(s);
  });

  it('when polls get 503 without Retry-After, then the batch backs off with the default jittered back-off, is never resubmitted, and completes', async () => {
    const s = await start({
      sim: faults({ route: 'poll', status: 503, times: 2 }),
      workerEnv: { FOXAPI_BACKOFF_BASE_MS: '400', FOXAPI_BACKOFF_MAX_MS: '2000' },
    });
    const watch = new SimWatch(s);
    const files = urls(2, 'poll503');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 20_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 503)).toBe(2);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    // Back-off from 400 ms, doubling, with jitter between half and all of it: each failed poll
    // is followed by a pause of at least 200 ms, then 400 ms, before the next look.
    const errors = watch.answersOf(503).sort((a, b) => a - b);
    const firstGoodPoll = watch.firstAt((x) => x.polls >= 1, 'an answered poll');
    const marks = [...errors, firstGoodPoll];
    expect(marks[1]! - marks[0]!).toBeGreaterThanOrEqual(150);
    expect(marks[2]! - marks[1]!).toBeGreaterThanOrEqual(350);
    await expectNothingLeftOpen(s);
  });

  it('when a poll gets 429 with Retry-After, then polling pauses that long and the job completes without a resubmit', async () => {
    const s = await start({ sim: faults({ route: 'poll', status: 429, times: 1, retryAfterS: 1 }) });
    const watch = new SimWatch(s);
    const files = urls(2, 'poll429');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 15_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 429)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    const gap = watch.firstAt((x) => x.polls >= 1, 'an answered poll') - watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(4_000);
    await expectNothingLeftOpen(s);
  });

  it('when a poll hangs past FOXAPI_TIMEOUT_MS, then it is retried later and the job completes without a resubmit', async () => {
    const s = await start({ workerEnv: { FOXAPI_TIMEOUT_MS: '1000' }, sim: faults({ route: 'poll', status: 0, times: 1 }) });
    const files = urls(2, 'pollhang');
    const created = await s.submit({ file_urls: files });

    // A hang carries no Retry-After: the default back-off (5–10 s for a first failure) applies.
    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(answered(st, 0)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(st.polls).toBeGreaterThanOrEqual(1);
    await expectNothingLeftOpen(s);
  });
});
