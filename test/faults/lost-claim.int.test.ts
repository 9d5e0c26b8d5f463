import { describe, expect, it } from '@jest/globals';
import { BatchStore, type Job } from '@batchscribe/shared';
import type { TestHook } from '../../apps/worker/src/pipeline/crash-points.js';
import { capturedLogger } from '../support/captured-logger.js';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';
import { stopAfterEach } from '../support/stop-after-each.js';

/*
 * Redis acknowledges a write before it is on disk or on a replica: a host crash under
 * `appendfsync everysec`, or a failover to a replica that was behind, can take the last
 * second of writes back. The worst write to lose is a submit claim: the worker holding it
 * pays foxapi, and finds its batch back in `queued`. These tests take that write back for
 * real (an in-process hook restores the batch record between the submit and its record).
 */

const track = stopAfterEach();

const FILES = 250;
const BATCHES = 3;

interface Rollback {
  snapshot: Record<string, string> | null;
  wasInflight: number;
  stateBeforeRollback: string | null;
  rolledBack: number;
}

/**
 * A hook that photographs batch 0's record before its first claim and puts it back, inflight
 * membership included, right after foxapi answered its submit: exactly what Redis losing the
 * claim's write looks like to the worker. `then` runs after the rollback (another worker's move).
 */
function rollBackFirstClaim(s: Stack, then: (key: string) => Promise<void> = async () => undefined): { hook: TestHook; seen: Rollback } {
  const seen: Rollback = { snapshot: null, wasInflight: -1, stateBeforeRollback: null, rolledBack: 0 };
  const hook: TestHook = async (point, rec) => {
    if (rec.batch !== 0 || seen.rolledBack > 0) return;
    const key = s.keys.batch(rec.jobId, rec.batch);
    if (point === 'before-claim' && seen.snapshot === null) {
      seen.snapshot = await s.redis.hgetall(key);
      seen.wasInflight = await s.redis.sismember(s.keys.inflight, key);
    }
    if (point === 'after-submit-response' && seen.snapshot) {
      seen.stateBeforeRollback = await s.redis.hget(key, 'state');
      await s.redis.multi().del(key).hset(key, seen.snapshot).srem(s.keys.inflight, key).exec();
      seen.rolledBack++;
      await then(key);
    }
  };
  return { hook, seen };
}

describe('a submit claim that Redis loses', () => {
  it('when the batch record is rolled back to queued between submit and record, then the task id is recorded: one submission per batch and every file completed', async () => {
    const logs = capturedLogger();
    const s = track(await Stack.start({ worker: false, logger: logs.logger, sim: { taskDurationMs: 200 } }));
    const { hook, seen } = rollBackFirstClaim(s);
    await s.startWorker({ testHook: hook });

    const files = urls(FILES, 'rollback');
    const created = await s.submit({ file_urls: files });
    const job: Job = await s.waitForJob(created.id);

    // The rollback really happened: the claim was there, then it was gone.
    expect(seen.rolledBack).toBe(1);
    expect(seen.snapshot?.state).toBe('queued');
    expect(seen.snapshot?.claim).toBeUndefined();
    expect(seen.wasInflight).toBe(0);
    expect(seen.stateBeforeRollback).toBe('submitting');

    expect(job.status).toBe('completed');
    expect(job.counts).toEqual({ total: FILES, queued: 0, submitted: 0, completed: FILES, failed: 0, cancelled: 0 });
    const stats = s.sim.stats();
    expect(stats.submissions).toBe(BATCHES);
    expect(stats.duplicateSubmissions).toBe(0);
    expect(files.map((url) => stats.submittedUrls[url])).toEqual(files.map(() => 1));

    const recovered = logs.lines().filter((l) => String(l.msg).startsWith('the claim was gone'));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ jobId: created.id, batch: 0, taskId: expect.any(String) });
    expect(await s.redis.hget(s.keys.batch(created.id, 0), 'task_id')).toBe(recovered[0]!.taskId);
    expect(logs.lines().filter((l) => String(l.msg).includes('orphaned'))).toEqual([]);
    expect(await s.redis.scard(s.keys.inflight)).toBe(0);
  });

  it('when another attempt claimed the rolled-back batch before the record, then its claim is left alone and this task is logged as orphaned', async () => {
    const logs = capturedLogger();
    const s = track(await Stack.start({ worker: false, logger: logs.logger }));
    const other = new BatchStore(s.redis, s.keys, 3600);
    const { hook, seen } = rollBackFirstClaim(s, async (key) => {
      const jobId = key.split(':job:')[1]!.split(':')[0]!;
      expect(await other.claimSubmit(jobId, 0, 'another-attempt', 60_000, 50)).toBe('claimed');
    });
    await s.startWorker({ testHook: hook, env: { WORKER_CONCURRENCY: '1' } });

    const created = await s.submit({ file_urls: urls(1, 'taken-over') });
    const orphaned = await waitFor(async () => logs.lines().find((l) => String(l.msg).includes('task is orphaned')), {
      timeoutMs: 15_000,
      what: 'the orphaned-task line',
    });
    expect(seen.rolledBack).toBe(1);
    expect(orphaned).toMatchObject({ jobId: created.id, batch: 0, taskId: expect.any(String) });
    const record = await s.redis.hgetall(s.keys.batch(created.id, 0));
    expect(record).toMatchObject({ state: 'submitting', claim: 'another-attempt' });
    expect(record.task_id).toBeUndefined();
    expect(s.sim.stats().submissions).toBe(1);
  });

  it("when a worker's clock runs an hour ahead, then another worker's live submit lease still holds, timed by Redis's clock", async () => {
    const s = track(await Stack.start({ worker: false }));
    const created = await s.submit({ file_urls: urls(1, 'skewed') });
    const key = s.keys.batch(created.id, 0);
    const elsewhere = new BatchStore(s.redis, s.keys, 3600);
    expect(await elsewhere.claimSubmit(created.id, 0, 'elsewhere', 2_500, 50)).toBe('claimed');
    const [sec] = await s.redis.time();
    const leaseUntil = Number(await s.redis.hget(key, 'lease_until'));
    expect(Math.abs(leaseUntil - (Number(sec) * 1000 + 2_500))).toBeLessThan(1_500);

    await s.startWorker({ clock: () => Date.now() + 3_600_000 });
    // The skewed worker takes the batch's step at once and, its clock an hour past the lease,
    // would call the submit dead; by Redis's clock it is live, so the step waits (delayed).
    const delayed = `${s.keys.bullPrefix}:batches:delayed`;
    await waitFor(async () => ((await s.redis.zcard(delayed)) === 1 ? true : undefined), { timeoutMs: 5_000, what: 'the step to wait' });
    expect(await s.redis.hget(key, 'state')).toBe('submitting');
    expect(await s.redis.hget(key, 'claim')).toBe('elsewhere');
    // Once the lease really ends, it is the ambiguous window as documented.
    const job = await s.waitForJob(created.id, undefined, 15_000);
    expect(job.status).toBe('failed');
    expect(await s.redis.hget(key, 'error_code')).toBe('upstream_submit_ambiguous');
    expect(s.sim.stats().submissions).toBe(0);
  });

  it('when a back-off is counted for a batch whose record is gone (cancelled and deleted meanwhile), then the record is not recreated', async () => {
    const s = track(await Stack.start({ worker: false }));
    const store = new BatchStore(s.redis, s.keys, 3600);
    const created = await s.submit({ file_urls: urls(1, 'deleted') });
    const key = s.keys.batch(created.id, 0);
    expect(await store.countBackoff(created.id, 0)).toBe(1);
    expect(await store.countBackoff(created.id, 0)).toBe(2);
    await s.redis.del(key);
    expect(await store.countBackoff(created.id, 0)).toBe(1);
    expect(await s.redis.exists(key)).toBe(0);
  });
});
