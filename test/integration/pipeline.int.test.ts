import { afterEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BATCH_JOB_OPTIONS, QUEUES, type BatchJobPayload, type FileResult, type Job } from '@batchscribe/shared';
import { Stack, countsAddUp, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function allResults(s: Stack, jobId: string): Promise<FileResult[]> {
  const out: FileResult[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const res = await s.request<{ data: FileResult[]; next_cursor: string | null }>('GET', `/v1/jobs/${jobId}/results?limit=70${q}`);
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

describe('core pipeline', () => {
  it('when a 250-URL job is submitted, then it runs as 3 batches, each URL is submitted once and every result maps to its URL', async () => {
    stack = await Stack.start();
    const files = urls(250);
    const created = await stack.submit({ file_urls: files, name: 'archive' });
    expect(created.counts).toEqual({ total: 250, queued: 250, submitted: 0, completed: 0, failed: 0, cancelled: 0 });
    expect(created.batches.total).toBe(3);
    expect(created.priority).toBe('bulk');

    const seen: Job[] = [];
    const job = await stack.waitForJob(created.id, (j) => {
      seen.push(j);
      return j.status === 'completed';
    });
    expect(seen.every(countsAddUp)).toBe(true);
    expect(job.counts).toMatchObject({ total: 250, completed: 250, failed: 0, queued: 0, submitted: 0 });
    expect(job.batches).toMatchObject({ total: 3, completed: 3 });
    expect(job.progress).toBe(100);
    expect(job.finished_at).not.toBeNull();

    const stats = stack.sim.stats();
    expect(stats.submissions).toBe(3);
    expect(stats.duplicateSubmissions).toBe(0);
    expect(Object.keys(stats.submittedUrls).sort()).toEqual([...files].sort());
    expect(stats.downloadsWithAuth).toBe(0);

    const results = await allResults(stack, created.id);
    expect(results.map((r) => r.index)).toEqual(files.map((_, i) => i));
    for (const r of results) {
      expect(r.file_url).toBe(files[r.index]);
      expect(r.status).toBe('completed');
      expect(r.batch).toBe(Math.floor(r.index / 100));
      expect(r.task_id).toMatch(/^task-unified-/);
      expect(r.transcript?.text).toContain(`This is the recording at file-${r.index}.wav`);
    }
  });

  it('when every batch is delivered twice and two workers run both copies at once, then each batch is submitted by one attempt only', async () => {
    // Slow foxapi answers keep each submit in flight long enough for the second copy to try.
    stack = await Stack.start({ worker: false, sim: { latencyMs: 300 } });
    const files = urls(300, 'twice');
    const created = await stack.submit({ file_urls: files });
    // A second BullMQ job for each batch, as a redelivery or a stalled-job takeover would make.
    const connection = new Redis(process.env.REDIS_URL!);
    const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection, prefix: stack.keys.bullPrefix });
    try {
      await queue.addBulk(
        [0, 1, 2].map((batch) => ({
          name: 'batch',
          data: { jobId: created.id, batch },
          opts: { ...BATCH_JOB_OPTIONS, jobId: `copy-${created.id}-b${batch}`, priority: 1 },
        })),
      );
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await stack.startWorker();
    await stack.startWorker();

    const job = await stack.waitForJob(created.id);
    expect(job.status).toBe('completed');
    expect(job.counts).toMatchObject({ total: 300, completed: 300 });
    const results = await allResults(stack, created.id);
    expect(results.map((r) => r.file_url)).toEqual(files);
    expect(stack.sim.stats().submissions).toBe(3);
    expect(stack.sim.stats().duplicateSubmissions).toBe(0);
  });

  it('when some files fail upstream, then the job ends completed_with_errors and each failure carries its code', async () => {
    stack = await Stack.start();
    const files = ['https://m.example.com/ok-1.wav', 'https://m.example.com/sim-fail-2.wav', 'https://m.example.com/ok-3.wav'];
    const created = await stack.submit({ files: files.map((url, i) => ({ url, ref: `ref-${i}` })) });
    expect(created.priority).toBe('interactive');
    const job = await stack.waitForJob(created.id);
    expect(job.status).toBe('completed_with_errors');
    expect(job.counts).toMatchObject({ completed: 2, failed: 1 });
    const results = await allResults(stack, created.id);
    expect(results[1]).toMatchObject({ status: 'failed', ref: 'ref-1', transcript: null, error: { code: 'InvalidFile.DownloadFailed' } });
    expect(results[0]).toMatchObject({ status: 'completed', ref: 'ref-0', error: null });
  });

  it('when the foxapi task fails, then every file of the batch fails with its code and the job is failed', async () => {
    stack = await Stack.start();
    const created = await stack.submit({ file_urls: ['https://m.example.com/sim-task-fail.wav', 'https://m.example.com/b.wav'] });
    const job = await stack.waitForJob(created.id);
    expect(job.status).toBe('failed');
    expect(job.counts).toMatchObject({ total: 2, failed: 2, completed: 0 });
    const results = await allResults(stack, created.id);
    expect(results.every((r) => r.error?.code === 'generation_failed')).toBe(true);
  });

  it('when the same URL appears twice in a batch, then each occurrence gets its own result', async () => {
    stack = await Stack.start({ sim: { resultShape: 'url' } });
    const dup = 'https://m.example.com/same.wav';
    const created = await stack.submit({ file_urls: [dup, 'https://m.example.com/sim-fail-x.wav', dup] });
    const job = await stack.waitForJob(created.id);
    expect(job.counts).toMatchObject({ completed: 2, failed: 1 });
    const results = await allResults(stack, created.id);
    expect(results.map((r) => r.status)).toEqual(['completed', 'failed', 'completed']);
    expect(stack.sim.stats().submittedUrls[dup]).toBe(2);
  });

  it('when a job ends, then every key of it expires within JOB_RETENTION_S, and once expired its id leaves the tenant index with the next job', async () => {
    stack = await Stack.start({ apiEnv: { JOB_RETENTION_S: '600' }, workerEnv: { JOB_RETENTION_S: '600' } });
    const old = await stack.submit({ file_urls: urls(120, 'retained') });
    expect((await stack.waitForJob(old.id)).status).toBe('completed');
    const jobKeys = (await stack.keysUnderPrefix()).filter((k) => k.includes(old.id) && !k.includes(':batches:'));
    expect(jobKeys.length).toBeGreaterThanOrEqual(3); // job, two batch records carrying the files (transcripts are in the blob store)
    for (const key of jobKeys) {
      const ttl = await stack.redis.ttl(key);
      expect(`${key} ttl ${ttl > 0 && ttl <= 600 ? 'within retention' : ttl}`).toBe(`${key} ttl within retention`);
    }

    // Let retention run out now rather than in ten minutes, then let the next job of the tenant clean up.
    for (const key of jobKeys) await stack.redis.pexpire(key, 1);
    await waitFor(async () => ((await stack!.redis.exists(...jobKeys)) === 0 ? true : undefined), { what: 'the keys to expire' });
    expect(await stack.redis.zscore(stack.keys.tenantJobs('acme'), old.id)).not.toBeNull();
    const next = await stack.submit({ file_urls: urls(1, 'next') });
    expect(await stack.redis.zscore(stack.keys.tenantJobs('acme'), old.id)).toBeNull();
    expect(await stack.redis.zscore(stack.keys.tenantJobs('acme'), next.id)).not.toBeNull();
  });

  it('when foxapi answers inline transcripts, then they are stored without a download', async () => {
    stack = await Stack.start({ sim: { resultShape: 'inline' } });
    const created = await stack.submit({ file_urls: ['https://m.example.com/inline.wav'] });
    const job = await stack.waitForJob(created.id);
    expect(job.status).toBe('completed');
    expect(stack.sim.stats().downloads).toBe(0);
    const txt = await stack.request('GET', `/v1/jobs/${created.id}/files/0/transcript?format=txt`);
    expect(txt.text).toContain('This is the recording at inline.wav');
  });

  it('when a result entry has an unknown shape, then that file fails upstream_unparsable_result and the rest complete', async () => {
    stack = await Stack.start();
    const created = await stack.submit({
      file_urls: ['https://m.example.com/sim-garbage.wav', 'https://m.example.com/sim-missing.wav', 'https://m.example.com/fine.wav'],
    });
    const job = await stack.waitForJob(created.id);
    expect(job.status).toBe('completed_with_errors');
    const results = await allResults(stack, created.id);
    expect(results.map((r) => r.error?.code ?? null)).toEqual(['upstream_unparsable_result', 'upstream_missing_result', null]);
    expect(await stack.transcripts.readTaskAnswer(created.id, 0)).toContain('sim-garbage');
  });

  it('when a job is completed, then every transcript format renders and the key layout is hash-tagged', async () => {
    stack = await Stack.start();
    const created = await stack.submit({ file_urls: ['https://m.example.com/formats.wav'] });
    await stack.waitForJob(created.id);
    const base = `/v1/jobs/${created.id}/files/0/transcript`;
    const srt = await stack.request('GET', `${base}?format=srt`);
    expect(srt.headers.get('content-type')).toContain('application/x-subrip');
    expect(srt.text).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n/);
    const vtt = await stack.request('GET', `${base}?format=vtt`);
    expect(vtt.text).toMatch(/^WEBVTT\n\n/);
    expect(vtt.text).toMatch(/\d\d:\d\d:\d\d\.\d{3} --> /);
    const json = await stack.request<{ channels: unknown[] }>('GET', `${base}?format=json`);
    expect(json.body.channels).toHaveLength(1);
    const raw = await stack.request<{ transcripts: unknown[] }>('GET', `${base}?format=raw`);
    expect(raw.body.transcripts).toHaveLength(1);
    const keys = await stack.keysUnderPrefix();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.startsWith(`{${stack!.prefix}}:`))).toBe(true);
    const ttl = await stack.redis.ttl(stack.keys.job(created.id));
    expect(ttl).toBeGreaterThan(0);
  });
});
