import { describe, expect, it } from '@jest/globals';
import { FaultStack, newObservations, urlList, withDeadline } from '../support/fault-stack.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/**
 * A worker SIGKILLs itself at each failpoint of the batch cycle (BATCHSCRIBE_CRASH_AT); a
 * fresh worker must take the batch over from its intent record and finish the job, sending
 * each URL to foxapi exactly once.
 *
 * Worker A runs with WORKER_CONCURRENCY=1 so that, when it dies at the failpoint, no other
 * step of it is in the middle of a submit request: a second batch cut mid-request would be
 * ambiguous by design (docs/upstream.md, "Submitting without idempotency") and is the subject of ambiguous-submit.int.test.ts.
 */

const track = stopAfterEach();

const FILES = 250;
const BATCHES = 3;

type Point =
  'before-claim' | 'after-submit-recorded' | 'after-poll-response' | 'mid-download' | 'after-transcripts-stored' | 'after-batch-finished';

/** What worker A must have left behind when it died there: proves the failpoint was really hit. */
async function checkStateAtCrash(s: FaultStack, point: Point, jobId: string): Promise<void> {
  const states = await s.batchStates(jobId, BATCHES);
  const stats = s.sim.stats();
  const txCount = await s.transcriptCount(jobId);
  switch (point) {
    case 'before-claim':
      expect(states).toEqual(['queued', 'queued', 'queued']);
      expect(stats.submissions).toBe(0);
      break;
    case 'after-submit-recorded':
      // One batch sent and its task id stored, then the worker died before the first poll.
      expect(stats.submissions).toBe(1);
      expect(states.filter((st) => st === 'submitted')).toHaveLength(1);
      expect(stats.polls).toBe(0);
      break;
    case 'after-poll-response':
      expect(stats.submissions).toBeGreaterThanOrEqual(1);
      expect(stats.polls).toBeGreaterThanOrEqual(1);
      expect(states.every((st) => st === 'queued' || st === 'submitted')).toBe(true);
      expect(txCount).toBe(0);
      break;
    case 'mid-download':
      expect(stats.downloads).toBeGreaterThanOrEqual(1);
      expect(states.every((st) => st === 'queued' || st === 'submitted')).toBe(true);
      expect(txCount).toBe(0);
      break;
    case 'after-transcripts-stored': {
      // Transcripts of one batch (100 files, or 50 for the last) stored, its outcome not yet recorded.
      expect([100, 50]).toContain(txCount);
      expect(states.every((st) => st === 'queued' || st === 'submitted')).toBe(true);
      const job = await s.admin.hmget(s.keys.job(jobId), 'f_completed', 'b_completed');
      expect(job).toEqual(['0', '0']);
      break;
    }
    case 'after-batch-finished': {
      const finished = states.flatMap((st, b) => (st === 'completed' ? [b] : []));
      expect(finished).toHaveLength(1);
      expect(txCount).toBe(finished[0] === BATCHES - 1 ? FILES - 100 * (BATCHES - 1) : 100);
      break;
    }
  }
  // Nothing A did was ever sent twice.
  expect(stats.duplicateSubmissions).toBe(0);
}

describe('worker SIGKILLed at a failpoint', () => {
  it.each<Point>([
    'before-claim',
    'after-submit-recorded',
    'after-poll-response',
    'mid-download',
    'after-transcripts-stored',
    'after-batch-finished',
  ])(
    'when a worker dies at %s and another starts, then the 250-URL job completes with each URL submitted once',
    async (point) => {
      const s = track(await FaultStack.start({ sim: { taskDurationMs: 500 } }));
      await s.diagnose(async () => {
        const workerA = await s.startApiAndWorker({ BATCHSCRIBE_CRASH_AT: point, WORKER_CONCURRENCY: '1' }, 'workerA');
        const files = urlList(FILES, `crash-${point}`);
        const created = await s.submitUrls(files);
        const obs = newObservations();
        expect(created.batches.total).toBe(BATCHES);

        // Watch the job (counts invariant included) until worker A has killed itself.
        await s.waitForJob(created.id, obs, { done: () => !workerA.alive, timeoutMs: 30_000 });
        const exit = await withDeadline(workerA.exited, 5_000, `worker A crashing at ${point}`);
        expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
        await checkStateAtCrash(s, point, created.id);
        const atCrash = await s.request<{ counts: Record<string, number> }>('GET', `/v1/jobs/${created.id}`);
        expect(atCrash.status).toBe(200);

        await s.startWorker({}, 'workerB');
        const job = await s.waitForJob(created.id, obs, { timeoutMs: 60_000 });

        expect(obs.broken).toEqual([]);
        expect(job.status).toBe('completed');
        expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });
        expect(job.batches).toEqual({ total: BATCHES, queued: 0, submitted: 0, completed: BATCHES, failed: 0, cancelled: 0 });
        expect(job.progress).toBe(100);

        const stats = s.sim.stats();
        expect(stats.duplicateSubmissions).toBe(0);
        expect(stats.submissions).toBe(BATCHES);
        expect(Object.keys(stats.submittedUrls).sort()).toEqual([...files].sort());
        expect(Object.values(stats.submittedUrls).every((n) => n === 1)).toBe(true);

        const results = await s.allResults(created.id);
        expect(results).toHaveLength(FILES);
        for (const r of results) {
          expect(r.status).toBe('completed');
          expect(r.file_url).toBe(files[r.index]);
          expect(r.error).toBeNull();
          expect(r.transcript?.text).toContain(`crash-${point}-${r.index}.wav`);
        }

        // State left behind: every intent record terminal, no foxapi slot held, every transcript stored.
        expect(await s.batchStates(created.id, BATCHES)).toEqual(['completed', 'completed', 'completed']);
        expect(await s.admin.scard(s.keys.inflight)).toBe(0);
        expect(await s.transcriptCount(created.id)).toBe(FILES);
        expect(await s.admin.zcard(s.keys.intakePending)).toBe(0);

        // Nothing orphaned: a transcript stored twice (before and after the crash) is one object,
        // and deleting the job leaves no blob of it.
        expect((await s.request('DELETE', `/v1/jobs/${created.id}`)).status).toBe(204);
        expect(await s.transcriptCount(created.id)).toBe(0);
      });
    },
    120_000,
  );
});
