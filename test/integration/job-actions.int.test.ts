import { afterEach, describe, expect, it } from '@jest/globals';
import { STATUS_LETTERS, type FileResult, type Job } from '@batchscribe/shared';
import { Stack, TOKENS, countsAddUp, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';
import { snapshotKeys } from '../support/raw-http.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('Idempotency-Key', () => {
  it('when the same key and body come again, then the first job is returned with Idempotent-Replayed', async () => {
    stack = await Stack.start({ worker: false });
    const body = { file_urls: urls(3), name: 'nightly' };
    const first = await stack.request<Job>('POST', '/v1/jobs', { body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(202);
    const again = await stack.request<Job>('POST', '/v1/jobs', { body, headers: { 'idempotency-key': 'k-1' } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const ttl = await stack.redis.ttl((await stack.keysUnderPrefix()).find((k) => k.includes(':idem:'))!);
    expect(ttl).toBeGreaterThan(23 * 3600);
  });

  it('when the same key comes with another body, then 422 idempotency-conflict and no second job', async () => {
    stack = await Stack.start({ worker: false });
    await stack.request('POST', '/v1/jobs', { body: { file_urls: urls(2) }, headers: { 'idempotency-key': 'k-2' } });
    const before = await stack.keysUnderPrefix();
    const res = await stack.request<{ type: string }>('POST', '/v1/jobs', {
      body: { file_urls: urls(3) },
      headers: { 'idempotency-key': 'k-2' },
    });
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/\/idempotency-conflict$/);
    expect(await stack.keysUnderPrefix()).toEqual(before);
  });

  it('when ten requests race with one key, then exactly one job exists and all see it', async () => {
    stack = await Stack.start({ worker: false });
    const body = { file_urls: urls(150) };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => stack!.request<Job>('POST', '/v1/jobs', { body, headers: { 'idempotency-key': 'race' } })),
    );
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(9);
    const list = await stack.request<{ data: Job[] }>('GET', '/v1/jobs');
    expect(list.body.data).toHaveLength(1);
  });

  it('when two tenants use the same key, then each gets its own job', async () => {
    stack = await Stack.start({ worker: false });
    const a = await stack.request<Job>('POST', '/v1/jobs', { body: { file_urls: urls(1) }, headers: { 'idempotency-key': 'shared' } });
    const b = await stack.request<Job>('POST', '/v1/jobs', {
      body: { file_urls: urls(1) },
      headers: { 'idempotency-key': 'shared' },
      token: TOKENS.globex,
    });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.id).not.toBe(b.body.id);
  });
});

describe('cancel', () => {
  it('when a job is cancelled mid-run, then queued batches cancel at once, the open task finishes and keeps its transcripts', async () => {
    stack = await Stack.start({ sim: { taskDurationMs: 1_500 }, workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '1' } });
    const created = await stack.submit({ file_urls: urls(300) });
    await stack.waitForJob(created.id, (j) => j.counts.submitted === 100);
    const res = await stack.request<Job>('POST', `/v1/jobs/${created.id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelling');
    expect(res.body.counts).toMatchObject({ submitted: 100, cancelled: 200, queued: 0 });
    expect(res.body.batches).toMatchObject({ submitted: 1, cancelled: 2 });
    expect(countsAddUp(res.body)).toBe(true);

    const again = await stack.request<Job>('POST', `/v1/jobs/${created.id}/cancel`);
    expect(again.status).toBe(202);

    const seen: Job[] = [];
    const job = await stack.waitForJob(created.id, (j) => (seen.push(j), j.status === 'cancelled'));
    expect(seen.every(countsAddUp)).toBe(true);
    expect(job.counts).toMatchObject({ completed: 100, cancelled: 200 });
    expect(stack.sim.stats().submissions).toBe(1);
    const results = await stack.request<{ data: FileResult[] }>('GET', `/v1/jobs/${created.id}/results?status=completed&limit=5`);
    expect(results.body.data[0]?.transcript?.text).toContain('This is the recording');

    const finished = await stack.request<{ type: string }>('POST', `/v1/jobs/${created.id}/retry`);
    expect(finished.status).toBe(409);
  });

  it('when a finished job is cancelled, then 409 conflict', async () => {
    stack = await Stack.start();
    const created = await stack.submit({ file_urls: urls(1) });
    await stack.waitForJob(created.id);
    const res = await stack.request<{ type: string }>('POST', `/v1/jobs/${created.id}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/\/conflict$/);
  });
});

describe('retry', () => {
  it('when some files failed, then retry sends only those again, in new batches, and the job completes', async () => {
    stack = await Stack.start({
      sim: { faults: [{ route: 'submit', status: 422, times: 1 }] },
      workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '1' },
    });
    const files = urls(250);
    const created = await stack.submit({ file_urls: files });
    const ended = await stack.waitForJob(created.id);
    expect(ended.status).toBe('completed_with_errors');
    expect(ended.counts).toMatchObject({ completed: 150, failed: 100 });

    const running = await stack.request<Job>('POST', `/v1/jobs/${created.id}/retry`);
    expect(running.status).toBe(202);
    expect(running.body.batches.total).toBe(4);
    expect(running.body.counts).toMatchObject({ queued: 100, failed: 0, completed: 150 });
    expect(countsAddUp(running.body)).toBe(true);
    const conflict = await stack.request('POST', `/v1/jobs/${created.id}/retry`);
    expect(conflict.status).toBe(409);

    const job = await stack.waitForJob(created.id, (j) => j.status === 'completed');
    expect(job.counts.completed).toBe(250);
    const stats = stack.sim.stats();
    expect(stats.duplicateSubmissions).toBe(0);
    expect(Object.keys(stats.submittedUrls)).toHaveLength(250);
    const retried = await stack.request<{ data: FileResult[] }>('GET', `/v1/jobs/${created.id}/results?limit=1000`);
    expect(new Set(retried.body.data.filter((r) => r.batch === 3).map((r) => r.index)).size).toBe(100);
  });

  it('when nothing failed, then retry is 409', async () => {
    stack = await Stack.start();
    const created = await stack.submit({ file_urls: urls(2) });
    await stack.waitForJob(created.id);
    expect((await stack.request('POST', `/v1/jobs/${created.id}/retry`)).status).toBe(409);
  });
});

describe('delete', () => {
  it('when a job is running, then delete is 409; once finished, every key of it is gone', async () => {
    stack = await Stack.start({ sim: { taskDurationMs: 800 } });
    const created = await stack.submit({ file_urls: urls(120) });
    const early = await stack.request<{ type: string }>('DELETE', `/v1/jobs/${created.id}`);
    expect(early.status).toBe(409);
    await stack.waitForJob(created.id);
    const other = await stack.request('DELETE', `/v1/jobs/${created.id}`, { token: TOKENS.globex });
    expect(other.status).toBe(404);
    const res = await stack.request('DELETE', `/v1/jobs/${created.id}`);
    expect(res.status).toBe(204);
    expect((await stack.request('GET', `/v1/jobs/${created.id}`)).status).toBe(404);
    const left = await waitFor(async () => {
      // The queue's records of its batches too (BullMQ keys name the batch job ids).
      const keys = (await stack!.keysUnderPrefix()).filter((k) => k.includes(created.id));
      return keys;
    });
    expect(left).toEqual([]);
    expect(await stack.redis.zscore(stack.keys.tenantJobs('acme'), created.id)).toBeNull();
  });
});

describe('cancel and retry with records they cannot read', () => {
  const state = (s: Stack) => snapshotKeys(s.redis, `{${s.prefix}}*`, (k) => k.includes(':ratelimit:'));

  it('when a single-batch job is already submitted, then cancel is 202 (no batch left queued) and the job ends cancelled', async () => {
    stack = await Stack.start({ sim: { taskDurationMs: 1_500 } });
    const created = await stack.submit({ file_urls: urls(3) });
    await stack.waitForJob(created.id, (j) => j.counts.submitted === 3);
    const res = await stack.request<Job>('POST', `/v1/jobs/${created.id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelling');
    expect(res.body.counts).toMatchObject({ submitted: 3, cancelled: 0, queued: 0 });
    expect(countsAddUp(res.body)).toBe(true);
    const job = await stack.waitForJob(created.id);
    expect(job.status).toBe('cancelled');
    expect(job.counts).toMatchObject({ completed: 3 });
  });

  it('when the file statuses of a queued batch are damaged, then cancel fails with a 500 naming it, and nothing is changed', async () => {
    stack = await Stack.start({ worker: false });
    const created = await stack.submit({ files: urls(150).map((url, i) => ({ url, ref: `r-${i}` })) });
    expect(created.batches.total).toBe(2);
    // In the second batch, so a script that writes as it goes has already cancelled the first.
    await stack.redis.hset(stack.keys.batch(created.id, 1), 'st', '');
    const before = await state(stack);
    const res = await stack.request<{ type: string; detail: string }>('POST', `/v1/jobs/${created.id}/cancel`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(/\/internal$/);
    expect(res.body.detail).toContain('batch 1');
    expect(res.body.detail).toContain('nothing was changed');
    expect(await state(stack)).toBe(before);
    const job = (await stack.request<Job>('GET', `/v1/jobs/${created.id}`)).body;
    expect(job.status).toBe('queued');
    expect(job.counts).toMatchObject({ queued: 150, cancelled: 0 });
  });

  it('when the errors of failed files cannot be decoded, then retry fails with a 500 naming the batch, nothing is changed, and delete still works', async () => {
    stack = await Stack.start({ worker: false });
    const created = await stack.submit({ file_urls: urls(3) });
    const jobKey = stack.keys.job(created.id);
    const batchKey = stack.keys.batch(created.id, 0);
    // The job as a worker leaves it when every file failed.
    await stack.redis.hset(jobKey, {
      status: 'failed',
      finished_at: new Date().toISOString(),
      f_queued: 0,
      f_failed: 3,
      b_queued: 0,
      b_failed: 1,
    });
    await stack.redis.hset(batchKey, { state: 'failed', st: STATUS_LETTERS.failed.repeat(3), err: '{"0":{"code":"x","message":"\\ud800"}' });
    const before = await state(stack);
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await stack.request<{ type: string; detail: string }>('POST', `/v1/jobs/${created.id}/retry`);
      expect(res.status).toBe(500);
      expect(res.body.type).toMatch(/\/internal$/);
      expect(res.body.detail).toContain('batch 0');
      expect(await state(stack)).toBe(before);
    }
    expect((await stack.request('DELETE', `/v1/jobs/${created.id}`)).status).toBe(204);
    expect(await stack.redis.exists(jobKey, batchKey)).toBe(0);
  });

});
