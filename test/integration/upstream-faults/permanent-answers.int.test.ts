import { afterEach, describe, expect, it } from '@jest/globals';
import { urls } from '../../support/stack.js';
import { start, faults, answered, allResults, expectNothingLeftOpen, stopFaultStack } from '../../support/upstream-faults.js';

/*
 * foxapi misbehaving, end to end (real api, worker(s) and Redis; the simulator injects the fault).
 * Answers no retry can change: 404 on a poll loses the task, 422 on a submit fails that batch's files with the upstream code.
 */

afterEach(stopFaultStack);

describe('permanent upstream answers (docs/upstream.md, "Reacting to errors": 404 on poll, 422 on submit)', () => {
  it('when a poll gets 404, then the batch fails upstream_task_lost and the job is failed', async () => {
    const s = await start({ sim: faults({ route: 'poll', status: 404, times: 1 }) });
    const created = await s.submit({ file_urls: urls(2, 'lost') });

    const job = await s.waitForJob(created.id);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2, completed: 0 });
    expect(job.batches).toMatchObject({ total: 1, failed: 1 });
    const results = await allResults(s, created.id);
    expect(results.map((r) => r.error?.code)).toEqual(['upstream_task_lost', 'upstream_task_lost']);
    expect(results.every((r) => r.task_id?.startsWith('task-unified-'))).toBe(true);

    const st = s.sim.stats();
    expect(st.submissions).toBe(1);
    expect(answered(st, 404)).toBe(1);
    expect(st.polls).toBe(0);
    await expectNothingLeftOpen(s);
  });

  it('when a submit gets 422 unsupported_advanced_options, then that batch fails with that code and the other batch completes', async () => {
    const s = await start({ apiEnv: { BATCH_SIZE: '2' }, sim: faults({ route: 'submit', status: 422, times: 1 }) });
    const files = urls(4, 'adv');
    const created = await s.submit({ file_urls: files });
    expect(created.batches.total).toBe(2);

    const job = await s.waitForJob(created.id);
    expect(job.status).toBe('completed_with_errors');
    expect(job.counts).toMatchObject({ total: 4, completed: 2, failed: 2 });
    expect(job.batches).toMatchObject({ total: 2, completed: 1, failed: 1 });
    const results = await allResults(s, created.id);
    const failedBatch = results.find((r) => r.status === 'failed')!.batch;
    for (const r of results) {
      if (r.batch === failedBatch) {
        expect(r).toMatchObject({ status: 'failed', task_id: null, transcript: null, error: { code: 'unsupported_advanced_options' } });
      } else {
        expect(r.status).toBe('completed');
        expect(r.transcript?.text).toContain(files[r.index]!.split('/').pop());
      }
    }

    const st = s.sim.stats();
    expect(answered(st, 422)).toBe(1);
    expect(st.submissions).toBe(1);
    expect(st.duplicateSubmissions).toBe(0);
    await expectNothingLeftOpen(s);
  });
});
