import { afterEach, describe, expect, it } from '@jest/globals';
import { Job as BullJob, Queue } from 'bullmq';
import { QUEUES, type BatchJobPayload } from '@batchscribe/shared';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
let queue: Queue<BatchJobPayload> | undefined;
afterEach(async () => {
  await queue?.close();
  await stack?.stop();
  stack = undefined;
  queue = undefined;
});

describe('the task-slot wait list (parked batches)', () => {
  it('when every foxapi task slot is taken and parked batches wake again and again, then they book no request budget', async () => {
    // One slot and one long task whose first poll is 30 s away: while it runs, nothing but the
    // parked batches' own steps could book a request.
    stack = await Stack.start({
      sim: { taskDurationMs: 60_000 },
      apiEnv: { BATCH_SIZE: '1' },
      workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '1', FOXAPI_MAX_RPS: '1', POLL_MIN_MS: '100', POLL_MAX_MS: '60000' },
    });
    const s = stack;
    queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: s.redis, prefix: s.keys.bullPrefix });
    await s.submit({ file_urls: urls(4, 'parked') });
    await waitFor(async () => (s.sim.stats().submissions === 1 && (await s.redis.zcard(s.keys.parked)) === 3 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'one batch open and three parked',
    });
    const bookedUntil = await s.redis.get(s.keys.rateTat);
    expect(bookedUntil).not.toBeNull();

    // Wake the parked batches three times, as their 30 s safety timer would.
    for (let round = 0; round < 3; round++) {
      const ids = await s.redis.zrange(s.keys.parked, 0, -1);
      expect(ids).toHaveLength(3);
      const woken = Date.now();
      for (const id of ids) await (await BullJob.fromId(queue, id))!.promote();
      await waitFor(
        async () => {
          const jobs = await Promise.all(ids.map((id) => BullJob.fromId(queue!, id)));
          const again = await Promise.all(jobs.map(async (j) => (j?.processedOn ?? 0) >= woken && (await j!.isDelayed())));
          return again.every(Boolean) && (await s.redis.zcard(s.keys.parked)) === 3 ? true : undefined;
        },
        { timeoutMs: 10_000, what: `the parked batches to run and park again (round ${round + 1})` },
      );
    }

    // Nine parked steps ran; the request schedule has not moved since the one submit (its key
    // may have expired since: it lives one interval and a second past its last booking).
    expect([bookedUntil, null]).toContain(await s.redis.get(s.keys.rateTat));
    expect(s.sim.stats().submissions).toBe(1);
    expect(s.sim.stats().polls).toBe(0);
  });
});
