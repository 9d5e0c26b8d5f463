import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import type { Job } from '@batchscribe/shared';
import { sweepIntake } from '../../apps/worker/src/intake-sweeper.js';
import { FaultStack, TENANT, urlList, withDeadline } from '../support/fault-stack.js';
import { countsAddUp } from '../support/stack.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/**
 * The api is SIGKILLed while it takes in a 20,000-URL job. A job and all its batches are
 * written atomically, so a failed request leaves nothing behind (README, "Guarantees";
 * docs/architecture.md, "Crash windows"). So after each kill, either
 * the job does not exist at all, or it exists whole (20,000 files, 200 batch records) and all
 * 200 batches are, or will be, on the queue (the intake sweeper finishes what the dead api
 * did not enqueue).
 *
 * The worker's sweeper only looks at jobs pending longer than INTAKE_GRACE_MS (30 s, a
 * constant in apps/worker/src/intake-sweeper.ts, not configurable). Waiting 30-45 s per case
 * is too long for this suite, so the test calls the same `sweepIntake` with graceMs 0 to
 * stand for "the worker's next sweep, 30 s later" (reported: the grace should be an env knob).
 *
 * The worker runs throughout, against a simulator whose tasks take 10 minutes: it picks the
 * batches up and submits them (proving they were enqueued), but no job downloads 20,000
 * transcripts, which would cost ~25 s of CPU per job on a 2-core machine.
 */

const track = stopAfterEach();

const FILES = 20_000;
const BATCHES = 200;

type Moment = { label: string; kind: 'delay'; ms: number } | { label: string; kind: 'body-sent' | 'job-visible' | 'answered' };

const MOMENTS: Moment[] = [
  { label: '5 ms', kind: 'delay', ms: 5 },
  { label: 'body sent', kind: 'body-sent' },
  { label: '30 ms', kind: 'delay', ms: 30 },
  { label: '80 ms', kind: 'delay', ms: 80 },
  { label: '200 ms', kind: 'delay', ms: 200 },
  // The narrow window between the MULTI that writes the job and the end of the enqueue.
  { label: 'job visible in Redis', kind: 'job-visible' },
  { label: '260 ms', kind: 'delay', ms: 260 },
  { label: '330 ms', kind: 'delay', ms: 330 },
  // Killed right after it answered 202: the job must be whole and fully enqueued.
  { label: 'after the 202', kind: 'answered' },
];

describe('api SIGKILLed mid-intake', () => {
  it('when the api dies at any moment of a 20,000-URL POST, then the job is either absent or whole, and every batch of a whole job gets enqueued', async () => {
    const s = track(await FaultStack.start({ sim: { taskDurationMs: 600_000 } }));
    await s.diagnose(async () => {
      await s.startApiAndWorker();
      const tenantKey = s.keys.tenantJobs(TENANT);
      const whole: string[] = [];
      const outcomes: string[] = [];

      for (const [attempt, moment] of MOMENTS.entries()) {
        const api = s.api!;
        // Distinct URLs per attempt, so the simulator's duplicate count means what it says.
        const body = urlList(FILES, `intake${attempt}`).join('\n');
        const before = new Set(await s.admin.zrange(tenantKey, 0, -1));
        let killedAt = -1;
        const t0 = Date.now();
        const kill = () => {
          if (killedAt < 0) {
            killedAt = Date.now() - t0;
            api.child.kill('SIGKILL');
          }
        };
        let watcher: NodeJS.Timeout | undefined;
        if (moment.kind === 'delay') setTimeout(kill, moment.ms);
        if (moment.kind === 'job-visible') {
          let busy = false;
          watcher = setInterval(() => {
            if (busy) return;
            busy = true;
            void s.admin
              .zcard(tenantKey)
              .then((n) => (n > before.size ? kill() : undefined))
              .finally(() => (busy = false));
          }, 1);
        }
        const answer = await s
          .postRaw('/v1/jobs', body, 'text/plain', moment.kind === 'body-sent' ? kill : undefined)
          .then((r) => `answered ${r.status}`)
          .catch((err: Error) => `connection ${err.message}`);
        if (moment.kind === 'answered') expect(answer).toBe('answered 202');
        if (killedAt < 0) kill(); // answered before the kill moment: kill anyway, the job must survive that too
        clearInterval(watcher);
        const exit = await withDeadline(api.exited, 10_000, 'api exit after SIGKILL');
        expect(exit.signal).toBe('SIGKILL');

        const after = await s.admin.zrange(tenantKey, 0, -1);
        const created = after.filter((id) => !before.has(id));
        expect(created.length).toBeLessThanOrEqual(1);
        const jobId = created[0];
        // Job keys in Redis belong to known jobs only (nothing half-written under another id).
        const jobKeys = await s.allKeys(`{bs}:job:*`);
        const known = new Set([...whole, ...(jobId ? [jobId] : [])]);
        expect(jobKeys.filter((k) => !known.has(/:job:(job_[0-9A-Za-z]+)/.exec(k)?.[1] ?? ''))).toEqual([]);
        if (answer.startsWith('answered'))
          expect({ moment: moment.label, answer, created: created.length }).toEqual({
            moment: moment.label,
            answer: 'answered 202',
            created: 1,
          });

        let pendingAtKill = false;
        if (jobId) {
          // Whole: the job hash and 200 batch records, each carrying its 100 files.
          const hash = await s.admin.hgetall(s.keys.job(jobId));
          expect(hash).toMatchObject({ id: jobId, tenant: TENANT, f_total: String(FILES), b_total: String(BATCHES) });
          const batchKeys = await s.allKeys(`${s.keys.jobKeyPrefix(jobId)}:b:*`);
          expect(batchKeys).toHaveLength(BATCHES);
          for (const b of [0, 99, 199]) {
            const [inputs, statuses] = await s.admin.hmget(s.keys.batch(jobId, b), 'f', 'st');
            expect(JSON.parse(inputs ?? '[]')).toHaveLength(100);
            expect(statuses).toHaveLength(100);
          }
          // Either every batch is on the queue, or the job is still marked pending for the sweeper.
          pendingAtKill = (await s.admin.zscore(s.keys.intakePending, jobId)) !== null;
          const enqueued = await countEnqueued(s, jobId);
          if (!pendingAtKill) expect(enqueued).toBe(BATCHES);
          outcomes.push(
            `${moment.label}: killed at ${killedAt} ms, ${answer}; job whole, ${enqueued}/${BATCHES} enqueued${pendingAtKill ? ', pending intake' : ''}`,
          );
          whole.push(jobId);
        } else {
          outcomes.push(`${moment.label}: killed at ${killedAt} ms, ${answer}; no job`);
        }

        // A restarted api sees exactly the whole jobs.
        await s.startApi();
        const list = await s.request<{ data: Job[] }>('GET', '/v1/jobs?limit=100');
        expect(list.status).toBe(200);
        expect(list.body.data.map((j) => j.id).sort()).toEqual([...whole].sort());
        if (jobId) {
          const got = await s.request<Job>('GET', `/v1/jobs/${jobId}`);
          expect(got.status).toBe(200);
          expect(got.body.counts.total).toBe(FILES);
          expect(got.body.batches.total).toBe(BATCHES);
          expect(countsAddUp(got.body)).toBe(true);
        }
        if (pendingAtKill) {
          // The worker's sweep, as it will run once INTAKE_GRACE_MS has passed. The job's fan-out
          // job (queued before the 202) may have run already and queued its batches: either way,
          // after the sweep every batch is queued and the job has left the pending set.
          await sweepIntake({
            redis: s.admin,
            keys: s.keys,
            queue: s.queue(),
            logger: pino({ level: 'silent' }),
            graceMs: 0,
          });
          expect(await countEnqueued(s, jobId!)).toBe(BATCHES);
          expect(await s.admin.zscore(s.keys.intakePending, jobId!)).toBeNull();
        }
      }
      process.stderr.write(`[api-intake-kill]\n  ${outcomes.join('\n  ')}\n`);

      // No job left half-enqueued, and the worker is taking the whole jobs' batches.
      expect(await s.admin.zcard(s.keys.intakePending)).toBe(0);
      for (const id of whole) expect(await countEnqueued(s, id)).toBe(BATCHES);
      if (whole.length > 0) {
        await waitForSubmitted(s, whole);
      }
      expect(s.sim.stats().duplicateSubmissions).toBe(0);
    });
  }, 120_000);
});

/** Batches of a job that have a BullMQ job (deterministic id) or have already left `queued`. */
async function countEnqueued(s: FaultStack, jobId: string): Promise<number> {
  let n = 0;
  const states = await s.batchStates(jobId, BATCHES);
  for (let b = 0; b < BATCHES; b++) {
    if (states[b] !== 'queued' || (await s.bullJobExists(jobId, b))) n += 1;
  }
  return n;
}

/** The worker submits batches of every whole job (up to its in-flight cap). */
async function waitForSubmitted(s: FaultStack, jobIds: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const urls = Object.keys(s.sim.stats().submittedUrls);
    const states = await Promise.all(jobIds.map((id) => s.batchStates(id, BATCHES)));
    const submitted = states.reduce((n, st) => n + st.filter((x) => x === 'submitted').length, 0);
    if (submitted >= Math.min(50, jobIds.length * BATCHES) && urls.length === submitted * 100) return;
    if (Date.now() > deadline) throw new Error(`worker did not pick the batches up: ${submitted} submitted, ${urls.length} URLs at foxapi`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
