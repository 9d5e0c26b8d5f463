import { afterEach, describe, expect, it } from '@jest/globals';
import { batchQueueJobId } from '@batchscribe/shared';
import { isTerminal, urls } from '../../support/stack.js';
import {
  start,
  faults,
  answered,
  allResults,
  batchQueueJobs,
  expectNothingLeftOpen,
  holdsFor,
  SimWatch,
  bursts,
  expectAllTranscribed,
  stopFaultStack,
} from '../../support/upstream-faults.js';
import { waitFor } from '../../support/wait-for.js';

/*
 * foxapi misbehaving, end to end (real api, worker(s) and Redis; the simulator injects the fault).
 * foxapi answers 429 to submits: the batch backs off (Retry-After when sent), spends no attempt, and the pause holds for every worker.
 */

afterEach(stopFaultStack);

describe('429 on submit (docs/upstream.md, "Reacting to errors": back off, honour Retry-After, global)', () => {
  it('when foxapi answers 429 with Retry-After to a submit, then the batch waits that long without spending an attempt and is submitted exactly once', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 429, times: 1, retryAfterS: 1 }) });
    const watch = new SimWatch(s);
    const files = urls(3, 'ra');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 3, completed: 3, failed: 0, queued: 0, submitted: 0 });
    expect(job.error).toBeNull();
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(answered(st, 429)).toBe(1);
    expect(st.rateLimited).toBe(1);
    expect(answered(st, 200)).toBe(1 + st.polls);
    // Retry-After: 1 s, honoured — not sooner, and not the 5–60 s default back-off.
    const gap = watch.firstAt((x) => x.submissions >= 1, 'a task') - watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(4_000);
    // A 429 is not a failure of the step: BullMQ counts the one successful run only.
    const [bull] = (await batchQueueJobs(s)).filter((j) => j.id === batchQueueJobId(created.id, 0));
    expect(bull?.attemptsMade).toBe(1);
    expect(bull?.failedReason ?? '').toBe('');
    await expectNothingLeftOpen(s);
  });

  it('when foxapi answers 429 without Retry-After, then the batch backs off (default, from 5 s) and is then submitted exactly once', async () => {
    const s = await start({ sim: faults({ route: 'submit', status: 429, times: 1 }) });
    const watch = new SimWatch(s);
    const files = urls(2, 'nora');
    const created = await s.submit({ file_urls: files });

    const job = await s.waitForJob(created.id, isTerminal, 25_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);
    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    expect(answered(st, 429)).toBe(1);
    const gap = watch.firstAt((x) => x.submissions >= 1, 'a task') - watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    // The smallest back-off docs/upstream.md, "Reacting to errors", allows is half of the 5 s base (equal jitter); the largest first one 10 s.
    expect(gap).toBeGreaterThanOrEqual(2_400);
    expect(gap).toBeLessThanOrEqual(10_500);
    await expectNothingLeftOpen(s);
  });

  it('when one submit gets 429 with Retry-After while three workers hold more batches, then no worker sends anything to foxapi until Retry-After has passed', async () => {
    // 4 requests/s across all workers: without a shared pause the next 4 steps would go out ~1 s after the first.
    const s = await start({
      apiEnv: { BATCH_SIZE: '1' },
      workerEnv: { FOXAPI_MAX_RPS: '4' },
      extraWorkers: 2,
      sim: faults({ route: 'submit', status: 429, times: 1, retryAfterS: 2 }),
    });
    expect(s.workers).toHaveLength(3);
    const watch = new SimWatch(s);
    const files = urls(8, 'shared');
    const created = await s.submit({ file_urls: files });
    expect(created.batches.total).toBe(8);

    const job = await s.waitForJob(created.id, isTerminal, 30_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expect(job.batches).toMatchObject({ total: 8, completed: 8 });
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(answered(st, 429)).toBe(1);
    expect(st.submissions).toBe(8);
    expect(st.duplicateSubmissions).toBe(0);
    // The quiet window: from shortly after the 429 (requests already on the wire may land) to
    // shortly before Retry-After ends, foxapi receives nothing at all — no submit, no poll.
    const t429 = watch.firstAt((x) => answered(x, 429) >= 1, 'a 429');
    const window = watch.samples.filter((x) => x.t >= t429 + 300 && x.t <= t429 + 1_800);
    expect(window.length).toBeGreaterThan(10);
    expect([...new Set(window.map((x) => x.requests))]).toHaveLength(1);
    await expectNothingLeftOpen(s);
  });

  it('when foxapi keeps answering 429 for seconds to several workers, then each Retry-After window sees one burst of at most FOXAPI_MAX_RPS requests, not a retry storm', async () => {
    const maxRps = 4;
    const retryAfterS = 1;
    const s = await start({
      apiEnv: { BATCH_SIZE: '1' },
      workerEnv: { FOXAPI_MAX_RPS: String(maxRps) },
      extraWorkers: 2,
      sim: faults({ route: 'submit', status: 429, retryAfterS }),
    });
    const watch = new SimWatch(s);
    const files = urls(12, 'storm');
    const created = await s.submit({ file_urls: files });

    await waitFor(async () => (answered(s.sim.stats(), 429) > 0 ? true : undefined), { what: 'the first 429' });
    const faultFrom = Date.now();
    await holdsFor(3_000, () => (s.sim.stats().submissions === 0 ? null : 'a submit got through a 429 fault'));
    s.sim.configure({ faults: [] });
    const faultMs = Date.now() - faultFrom;

    const job = await s.waitForJob(created.id, isTerminal, 30_000);
    watch.stop();
    expect(job.status).toBe('completed');
    expectAllTranscribed(await allResults(s, created.id), files);

    const st = s.sim.stats();
    expect(st.submissions).toBe(12);
    expect(st.duplicateSubmissions).toBe(0);
    const waves = bursts(watch.answersOf(429), 400);
    const total429 = answered(st, 429);
    // One wave per Retry-After window (plus the one already on the wire when the fault began).
    expect(waves.length).toBeLessThanOrEqual(Math.ceil(faultMs / (retryAfterS * 1000)) + 2);
    for (const wave of waves) expect(wave.length).toBeLessThanOrEqual(maxRps);
    for (let i = 1; i < waves.length; i++) expect(waves[i]![0]! - waves[i - 1]![0]!).toBeGreaterThanOrEqual(retryAfterS * 1000 - 100);
    expect(total429).toBeLessThanOrEqual(maxRps * waves.length);
    expect(st.rateLimited).toBe(total429);
    await expectNothingLeftOpen(s);
  });
});
