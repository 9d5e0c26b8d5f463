import { describe, expect, it } from '@jest/globals';
import { FaultStack, newObservations, urlList } from '../support/fault-stack.js';
import { waitFor } from '../support/wait-for.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/**
 * Redis (AOF on, appendfsync everysec) is SIGKILLed mid-job and started again on the same port
 * and data dir. Nobody restarts the api or the worker: they must reconnect by themselves, the
 * job must complete with each URL sent to foxapi once, and while Redis is away the api answers
 * job reads with 503 problem+json and a Retry-After.
 *
 * The outage is kept well under the submit lease (8 s): a step that was talking to foxapi
 * when Redis died stores its task id once Redis is back, before anyone may judge it dead.
 */

const track = stopAfterEach();

const FILES = 250;
const BATCHES = 3;
const OUTAGE_MS = 3_000;

describe('Redis SIGKILLed and restarted mid-job', () => {
  it('when Redis dies after some batches are submitted and comes back, then the api answers 503 meanwhile, everyone reconnects, and the job completes with no duplicate submission', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: 1_500 } }));
    s.front.submitDelayMs = 1_000; // a submit spends 1 s on the wire
    await s.diagnose(async () => {
      const worker = await s.startApiAndWorker({ FOXAPI_MAX_INFLIGHT_TASKS: '2' });
      const files = urlList(FILES, 'redis-restart');
      const created = await s.submitUrls(files);
      const obs = newObservations();

      // Mid-job: two batches have had open foxapi tasks, and the third batch's submit (it got
      // a slot when one ended) is on the wire: foxapi answers it while Redis is down, and the
      // worker must store its task id once Redis is back.
      await s.waitForJob(created.id, obs, { done: (j) => j.batches.submitted + j.batches.completed === 2, timeoutMs: 20_000 });
      await waitFor(async () => (s.front.submitsInFlight > 0 ? true : undefined), {
        timeoutMs: 20_000,
        intervalMs: 2,
        what: 'the third submit on the wire',
      });
      expect(s.sim.stats().submissions).toBe(2);

      await s.redis.kill();
      const outageStart = Date.now();
      const down = await waitFor(
        async () => {
          const res = await s.request<Record<string, unknown>>('GET', `/v1/jobs/${created.id}`);
          return res.status === 503 ? res : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 50, what: 'a 503 while Redis is down' },
      );
      expect(down.headers.get('content-type')).toContain('application/problem+json');
      expect(down.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(down.body).toMatchObject({ status: 503, type: expect.stringMatching(/\/unavailable$/) });
      expect(down.headers.get('x-request-id')).toBeTruthy();
      const list = await s.request('GET', '/v1/jobs');
      expect(list.status).toBe(503);
      expect(list.headers.get('retry-after')).toBeTruthy();
      const ready = await s.request<{ checks: { redis: string } }>('GET', '/readyz', { token: null });
      expect(ready.status).toBe(503);
      expect(ready.body.checks.redis).toMatch(/^unreachable/);

      // Down longer than the BullMQ lock (2 s), so the locks of the steps that were running
      // have expired when Redis comes back and the stalled-job check hands them out again.
      const holdDown = OUTAGE_MS - (Date.now() - outageStart);
      if (holdDown > 0) await new Promise((r) => setTimeout(r, holdDown));
      await s.redis.restart();
      const outageMs = Date.now() - outageStart;
      expect(outageMs).toBeLessThan(6_000);
      process.stderr.write(`[redis-restart] Redis was down ${outageMs} ms\n`);

      // The api recovers by itself.
      const back = await waitFor(
        async () => {
          const res = await s.request<{ counts: { total: number } }>('GET', `/v1/jobs/${created.id}`);
          return res.status === 200 ? res : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, what: 'GET /v1/jobs/{id} 200 after Redis came back' },
      );
      expect(back.body.counts.total).toBe(FILES);

      // The submit answered during the outage was recorded, not judged dead.
      expect(s.sim.stats().submissions).toBe(BATCHES);
      const job = await s.waitForJob(created.id, obs, { timeoutMs: 60_000 });
      expect(obs.broken).toEqual([]);
      expect(job.status).toBe('completed');
      expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });
      expect(worker.alive).toBe(true); // reconnected by itself, never restarted

      const stats = s.sim.stats();
      expect(stats.duplicateSubmissions).toBe(0);
      expect(stats.submissions).toBe(BATCHES);
      expect(Object.keys(stats.submittedUrls).sort()).toEqual([...files].sort());
      const results = await s.allResults(created.id);
      expect(results.every((r) => r.status === 'completed' && r.transcript?.text.includes(`redis-restart-${r.index}.wav`))).toBe(true);
      expect(await s.batchStates(created.id, BATCHES)).toEqual(['completed', 'completed', 'completed']);
      expect(await s.admin.scard(s.keys.inflight)).toBe(0);
      await s.waitReady(15_000);
    });
  }, 120_000);
});
