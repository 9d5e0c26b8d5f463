import { describe, expect, it } from '@jest/globals';
import { FaultStack, newObservations, urlList } from '../support/fault-stack.js';
import { waitFor } from '../support/wait-for.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/**
 * The big one: a 3,000-URL job (30 batches) survives two worker SIGKILLs and a Redis SIGKILL +
 * restart, and no URL is ever sent to foxapi twice.
 *
 * Where the kills land: a SIGKILL during a submit foxapi is answering is ambiguous by design
 * (docs/upstream.md, "Submitting without idempotency") — resending it may pay twice, not resending fails the batch — and is
 * covered by ambiguous-submit.int.test.ts. Here the worker is killed at a chosen count of
 * submissions, but through FaultStack.killWorkerOutsideSubmitWindow: new submits are held at
 * the simulator's door and the kill waits until every submit foxapi has seen is recorded.
 * A batch whose submit was held when the worker died is left `submitting` with no task at
 * foxapi; the service cannot know that, so the workers run with SUBMIT_RETRY_AMBIGUOUS=true
 * and resend it once its lease is over. Because foxapi never saw the held request, the resend
 * must not duplicate anything: duplicateSubmissions must stay 0 and submissions must be 30.
 *
 * Redis is killed at a chosen count too, for about 2 s, well under the 8 s submit lease, so a
 * submit answered while Redis is down is recorded once it is back, before anyone may judge it
 * dead.
 */

const track = stopAfterEach();

const FILES = 3_000;
const BATCHES = 30;
const TAG = 'chaos';

function batchOfUrl(url: string): number {
  const m = new RegExp(`${TAG}-(\\d+)\\.wav$`).exec(url);
  if (!m) throw new Error(`not a test URL: ${url}`);
  return Math.floor(Number(m[1]) / 100);
}

describe('chaos: two worker SIGKILLs and a Redis restart', () => {
  it('when a 3,000-URL job loses its worker twice and Redis once, then it completes and no URL is submitted twice', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: { min: 800, max: 2_500 }, seed: 7 } }));
    // Each submit spends 300 ms on the wire, so kills can land next to one.
    s.front.submitDelayMs = 300;
    await s.diagnose(async () => {
      const env = { SUBMIT_RETRY_AMBIGUOUS: 'true', FOXAPI_MAX_INFLIGHT_TASKS: '8' };
      const started = Date.now();
      const w1 = await s.startApiAndWorker(env, 'worker1');
      const files = urlList(FILES, TAG);
      const created = await s.submitUrls(files);
      expect(created.batches.total).toBe(BATCHES);
      const obs = newObservations();
      const untilSubmissions = (n: number) =>
        s.waitForJob(created.id, obs, { done: () => s.sim.stats().submissions >= n, timeoutMs: 60_000 });
      const untilSubmitOnTheWire = () =>
        waitFor(async () => (s.front.submitsInFlight > 0 ? true : undefined), {
          timeoutMs: 30_000,
          intervalMs: 2,
          what: 'a submit in flight',
        });
      const timeline: string[] = [];
      const mark = (what: string) =>
        timeline.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what} (submissions ${s.sim.stats().submissions})`);

      // Kill 1: early, right as a submit is on the wire (it must be let through and recorded;
      // any submit that starts meanwhile is held and cut).
      await untilSubmissions(6);
      await untilSubmitOnTheWire();
      const cut1 = await s.killWorkerOutsideSubmitWindow(w1, created.id, BATCHES, batchOfUrl);
      expect((await w1.exited).signal).toBe('SIGKILL');
      mark(`worker1 SIGKILLed; batches cut before foxapi saw them: [${cut1.join(', ')}]`);
      await s.startWorker(env, 'worker2');

      // Redis: SIGKILL, ~2 s down, restart on the same port and AOF dir.
      await untilSubmissions(14);
      await s.redis.kill();
      mark('Redis SIGKILLed');
      const down = await waitFor(
        async () => {
          const res = await s.request('GET', `/v1/jobs/${created.id}`);
          return res.status === 503 ? res : undefined;
        },
        { timeoutMs: 5_000, what: '503 while Redis is down' },
      );
      expect(down.headers.get('retry-after')).toBeTruthy();
      await new Promise((r) => setTimeout(r, 2_000)); // the outage itself (a chosen duration, not a wait for state)
      await s.redis.restart();
      mark('Redis restarted');

      // Kill 2: later, with work of every kind in flight, again as a submit is on the wire.
      await untilSubmissions(20);
      await untilSubmitOnTheWire();
      const w2 = s.children.find((c) => c.name === 'worker2')!;
      const cut2 = await s.killWorkerOutsideSubmitWindow(w2, created.id, BATCHES, batchOfUrl);
      expect((await w2.exited).signal).toBe('SIGKILL');
      mark(`worker2 SIGKILLed; batches cut before foxapi saw them: [${cut2.join(', ')}]`);
      const w3 = await s.startWorker(env, 'worker3');

      const job = await s.waitForJob(created.id, obs, { timeoutMs: 90_000 });
      mark(`job ${job.status}`);
      process.stderr.write(`[chaos]\n  ${timeline.join('\n  ')}\n`);

      expect(obs.broken).toEqual([]);
      expect(job.status).toBe('completed');
      expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });
      expect(job.batches).toEqual({ total: BATCHES, queued: 0, submitted: 0, completed: BATCHES, failed: 0, cancelled: 0 });
      expect(w3.alive).toBe(true);

      const stats = s.sim.stats();
      expect(stats.duplicateSubmissions).toBe(0);
      expect(stats.submissions).toBe(BATCHES);
      expect(Object.keys(stats.submittedUrls)).toHaveLength(FILES);

      const results = await s.allResults(created.id);
      expect(results).toHaveLength(FILES);
      const bad = results.filter(
        (r) => r.status !== 'completed' || r.file_url !== files[r.index] || !r.transcript?.text.includes(`${TAG}-${r.index}.wav`),
      );
      expect(bad.slice(0, 3)).toEqual([]);
      const states = await s.batchStates(created.id, BATCHES);
      expect(states.every((st) => st === 'completed')).toBe(true);
      expect(await s.admin.scard(s.keys.inflight)).toBe(0);
      expect(await s.transcriptCount(created.id)).toBe(FILES);
      // A cut batch was resent exactly once, on its new claim.
      for (const b of [...cut1, ...cut2]) expect(stats.submittedUrls[files[b * 100]!]).toBe(1);
    });
  }, 150_000);
});
