import { afterEach, describe, expect, it } from '@jest/globals';
import type { FileResult, Job } from '@batchscribe/shared';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/**
 * Releases before the packed data model kept one JSON record per file (`…:files`) and a list of
 * indexes in each batch record. A worker starting on such a Redis packs them; results, task ids,
 * errors and retries read as before.
 */
describe('file records kept one per file by earlier releases', () => {
  it('when a worker starts on a Redis with a job in the per-file layout, then its files are packed and the job reads and retries as before', async () => {
    stack = await Stack.start({ worker: false });
    const s = stack;
    const files = urls(150, 'legacy-files');
    const created = await s.submit({ files: files.map((url, i) => (i % 2 === 0 ? { url, ref: `ref-${i}` } : { url })) });
    const job = s.keys.job(created.id);
    const batch = (b: number) => s.keys.batch(created.id, b);
    // Rewrite it the way the earlier release left it: batch 0 completed by task-a, file 5 failed,
    // file 7 failed and retried in batch 2 (task-c, completed), batch 1 cancelled while queued.
    const old = (i: number): Record<string, unknown> => {
      const rec: Record<string, unknown> = { u: files[i], b: i < 100 ? 0 : 1, s: i < 100 ? 'completed' : 'cancelled' };
      if (i % 2 === 0) rec.r = `ref-${i}`;
      if (i < 100) rec.t = 'task-a';
      if (i === 5) Object.assign(rec, { s: 'failed', e: { code: 'InvalidFile.DownloadFailed', message: 'could not fetch' } });
      if (i === 7) Object.assign(rec, { b: 2, t: 'task-c' });
      return rec;
    };
    await s.redis.hdel(job, 'page');
    for (const b of [0, 1]) await s.redis.hdel(batch(b), 'f', 'st', 'first', 'n', 'err', 'via');
    await s.redis.hset(`${job}:files`, ...files.flatMap((_, i) => [String(i), JSON.stringify(old(i))]));
    await s.redis.hset(batch(0), { state: 'completed', task_id: 'task-a', files: JSON.stringify(files.slice(0, 100).map((_, i) => i)) });
    await s.redis.hset(batch(1), { state: 'cancelled', files: JSON.stringify(files.slice(100).map((_, i) => 100 + i)) });
    await s.redis.hset(batch(2), { state: 'completed', task_id: 'task-c', files: JSON.stringify([7]) });
    await s.redis.hset(job, {
      status: 'completed_with_errors',
      finished_at: new Date().toISOString(),
      f_queued: 0,
      f_completed: 99,
      f_failed: 1,
      f_cancelled: 50,
      b_total: 3,
      b_queued: 0,
      b_completed: 2,
      b_cancelled: 1,
    });

    await s.startWorker();
    await waitFor(async () => ((await s.redis.exists(`${job}:files`)) === 0 ? true : undefined), { what: 'the per-file hash to be packed' });

    const page = await s.request<{ data: FileResult[] }>('GET', `/v1/jobs/${created.id}/results?limit=1000&include_transcript=false`);
    expect(page.status).toBe(200);
    const byIndex = new Map(page.body.data.map((r) => [r.index, r]));
    expect(page.body.data).toHaveLength(150);
    expect(byIndex.get(0)).toMatchObject({ file_url: files[0], ref: 'ref-0', status: 'completed', batch: 0, task_id: 'task-a', error: null });
    expect(byIndex.get(5)).toMatchObject({ status: 'failed', task_id: 'task-a', error: { code: 'InvalidFile.DownloadFailed' } });
    expect(byIndex.get(7)).toMatchObject({ ref: null, status: 'completed', batch: 2, task_id: 'task-c' });
    expect(byIndex.get(120)).toMatchObject({ ref: 'ref-120', status: 'cancelled', batch: 1, task_id: null });

    const retried = await s.request<Job>('POST', `/v1/jobs/${created.id}/retry`);
    expect(retried.status).toBe(202);
    const ended = await s.waitForJob(created.id);
    expect(ended.counts).toMatchObject({ total: 150, completed: 100, failed: 0, cancelled: 50 });
    const after = await s.request<{ data: FileResult[] }>('GET', `/v1/jobs/${created.id}/results?limit=10&include_transcript=false`);
    expect(after.body.data[5]).toMatchObject({ index: 5, status: 'completed', batch: 3, error: null });
    expect(after.body.data[7]).toMatchObject({ index: 7, status: 'completed', batch: 2, task_id: 'task-c' });
  });
});
