import { describe, expect, it } from '@jest/globals';
import { FaultStack, newObservations, urlList, withDeadline } from '../support/fault-stack.js';
import { waitFor } from '../support/wait-for.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/**
 * SIGTERM drains (README: "SIGTERM drains and exits 0"): the worker finishes the steps it is
 * in — here, on purpose, a submit request foxapi is still answering — takes no new ones, and
 * exits 0. Because the drain lets that submit finish and store its task id, nothing is left
 * ambiguous, and a new worker finishes the job without sending any URL twice.
 */

const track = stopAfterEach();

const FILES = 250;
const BATCHES = 3;

describe('worker SIGTERM mid-job', () => {
  it('when a worker gets SIGTERM while a submit is in flight, then it exits 0 within 15 s, leaves no batch mid-submit, and a new worker finishes with no duplicate submission', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: 1_000 } }));
    // Every submit spends 700 ms in flight, so there is one to catch.
    s.front.submitDelayMs = 700;
    await s.diagnose(async () => {
      // Two task slots: batches 0 and 1 go first, batch 2 is submitted once one of them ends.
      const workerA = await s.startApiAndWorker({ FOXAPI_MAX_INFLIGHT_TASKS: '2' }, 'workerA');
      const files = urlList(FILES, 'sigterm');
      const created = await s.submitUrls(files);
      const obs = newObservations();

      // Mid-job: two tasks created, and the third batch's submit is being answered right now.
      await waitFor(async () => (s.sim.stats().submissions >= 2 && s.front.submitsInFlight >= 1 ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 5,
        what: 'the third submit in flight',
      });
      const t0 = Date.now();
      workerA.child.kill('SIGTERM');
      const exit = await withDeadline(workerA.exited, 15_000, 'worker A draining after SIGTERM');
      const drainMs = Date.now() - t0;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(drainMs).toBeLessThan(15_000);
      const logs = workerA.logs().map((l) => l.msg);
      expect(logs).toContain('worker draining');
      expect(logs).toContain('worker stopped');

      // State left: the in-flight submit finished and was recorded; nothing is mid-submit.
      const states = await s.batchStates(created.id, BATCHES);
      expect(states).not.toContain('submitting');
      const stats = s.sim.stats();
      expect(stats.submissions).toBe(BATCHES);
      expect(states.filter((st) => st === 'submitted' || st === 'completed')).toHaveLength(BATCHES);
      // Its heartbeat is withdrawn.
      const workers = await s.admin.zrange(s.keys.workers, 0, -1);
      expect(workers.some((w) => w.includes(`:${workerA.pid}:`))).toBe(false);

      await s.startWorker({}, 'workerB');
      const job = await s.waitForJob(created.id, obs, { timeoutMs: 60_000 });
      expect(obs.broken).toEqual([]);
      expect(job.status).toBe('completed');
      expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });
      const end = s.sim.stats();
      expect(end.duplicateSubmissions).toBe(0);
      expect(end.submissions).toBe(BATCHES);
      const results = await s.allResults(created.id);
      expect(results.every((r) => r.status === 'completed' && r.transcript?.text.includes(`sigterm-${r.index}.wav`))).toBe(true);
      expect(await s.admin.scard(s.keys.inflight)).toBe(0);
      process.stderr.write(`[worker-sigterm] drained in ${drainMs} ms\n`);
    });
  }, 120_000);
});
