import { describe, expect, it } from '@jest/globals';
import { FaultStack, newObservations, urlList, withDeadline, type JobObservations } from '../support/fault-stack.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/**
 * The one window docs/upstream.md, "Submitting without idempotency", leaves open: the worker dies after foxapi created the
 * task but before its id is stored (BATCHSCRIBE_CRASH_AT=after-submit-response). Whether a
 * task exists is then unknowable (foxapi has no idempotency key and no task list), so:
 * SUBMIT_RETRY_AMBIGUOUS=false fails that batch with upstream_submit_ambiguous and never sends
 * it again; SUBMIT_RETRY_AMBIGUOUS=true sends it again once its submit lease (FOXAPI_TIMEOUT_MS
 * + 5 s = 8 s here) has run out, and foxapi bills those URLs twice — the documented cost.
 *
 * Worker A runs with WORKER_CONCURRENCY=1 so exactly one batch is cut in the window.
 */

const track = stopAfterEach();

const FILES = 250;
const BATCHES = 3;

async function crashInAmbiguousWindow(s: FaultStack, obs: JobObservations, retryAmbiguous: boolean, tag: string) {
  const env = { SUBMIT_RETRY_AMBIGUOUS: String(retryAmbiguous) };
  const workerA = await s.startApiAndWorker({ ...env, BATCHSCRIBE_CRASH_AT: 'after-submit-response', WORKER_CONCURRENCY: '1' }, 'workerA');
  const files = urlList(FILES, tag);
  const created = await s.submitUrls(files);
  await s.waitForJob(created.id, obs, { done: () => !workerA.alive, timeoutMs: 30_000 });
  const exit = await withDeadline(workerA.exited, 5_000, 'worker A crashing at after-submit-response');
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });

  // Left behind: foxapi created one task, and its batch is still `submitting` with no task id.
  const states = await s.batchStates(created.id, BATCHES);
  const cut = states.indexOf('submitting');
  expect(cut).toBeGreaterThanOrEqual(0);
  expect(states.filter((st) => st === 'submitting')).toHaveLength(1);
  expect(await s.admin.hget(s.keys.batch(created.id, cut), 'task_id')).toBeNull();
  const atCrash = s.sim.stats();
  expect(atCrash.submissions).toBe(1);
  const cutUrls = files.slice(cut * 100, cut * 100 + 100);
  expect(Object.keys(atCrash.submittedUrls).sort()).toEqual([...cutUrls].sort());

  await s.startWorker(env, 'workerB');
  return { created, files, cut, cutUrls };
}

describe('worker SIGKILLed in the ambiguous submit window', () => {
  it('when SUBMIT_RETRY_AMBIGUOUS=false, then the cut batch fails with upstream_submit_ambiguous, the others complete, and no URL is submitted twice', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: 500 } }));
    await s.diagnose(async () => {
      const obs = newObservations();
      const { created, files, cut } = await crashInAmbiguousWindow(s, obs, false, 'ambig-no');
      const job = await s.waitForJob(created.id, obs, { timeoutMs: 60_000 });

      expect(obs.broken).toEqual([]);
      expect(job.status).toBe('completed_with_errors');
      expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES - 100, failed: 100, cancelled: 0 });
      expect(job.batches).toEqual({ total: BATCHES, queued: 0, submitted: 0, completed: BATCHES - 1, failed: 1, cancelled: 0 });

      const stats = s.sim.stats();
      expect(stats.duplicateSubmissions).toBe(0);
      expect(stats.submissions).toBe(BATCHES); // the cut batch's task (paid, unused) + the two others
      expect(Object.values(stats.submittedUrls).every((n) => n === 1)).toBe(true);
      expect(Object.keys(stats.submittedUrls)).toHaveLength(FILES);

      const results = await s.allResults(created.id);
      expect(results).toHaveLength(FILES);
      for (const r of results) {
        expect(r.file_url).toBe(files[r.index]);
        if (r.batch === cut) {
          expect(r.status).toBe('failed');
          expect(r.error?.code).toBe('upstream_submit_ambiguous');
          expect(r.transcript).toBeNull();
        } else {
          expect(r.status).toBe('completed');
          expect(r.transcript?.text).toContain(`ambig-no-${r.index}.wav`);
        }
      }
      const cutRecord = await s.admin.hgetall(s.keys.batch(created.id, cut));
      expect(cutRecord).toMatchObject({ state: 'failed', error_code: 'upstream_submit_ambiguous' });
      expect(cutRecord.claim).toBeUndefined();
      expect(await s.admin.scard(s.keys.inflight)).toBe(0);
      // POST /retry is the documented way to send it again (docs/upstream.md, "Submitting without idempotency").
      const logs = s.children.flatMap((c) => c.logs());
      expect(logs.some((l) => String(l.msg).startsWith('ambiguous submit: batch failed'))).toBe(true);
    });
  }, 120_000);

  it('when SUBMIT_RETRY_AMBIGUOUS=true, then the job completes and only the cut batch is submitted twice (the documented cost)', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: 500 } }));
    await s.diagnose(async () => {
      const obs = newObservations();
      const { created, files, cutUrls } = await crashInAmbiguousWindow(s, obs, true, 'ambig-yes');
      const job = await s.waitForJob(created.id, obs, { timeoutMs: 60_000, allowDuplicates: true });

      expect(obs.broken).toEqual([]);
      expect(job.status).toBe('completed');
      expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });

      const stats = s.sim.stats();
      expect(stats.submissions).toBe(BATCHES + 1);
      expect(stats.duplicateSubmissions).toBe(100);
      const cutSet = new Set(cutUrls);
      for (const url of files) expect({ url, n: stats.submittedUrls[url] }).toEqual({ url, n: cutSet.has(url) ? 2 : 1 });

      const results = await s.allResults(created.id);
      expect(results.every((r) => r.status === 'completed' && r.transcript !== null)).toBe(true);
      expect(await s.batchStates(created.id, BATCHES)).toEqual(['completed', 'completed', 'completed']);
      expect(await s.admin.scard(s.keys.inflight)).toBe(0);
    });
  }, 120_000);
});
