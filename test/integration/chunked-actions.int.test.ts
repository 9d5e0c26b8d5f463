import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BatchStore,
  JobStore,
  type Counts,
  type FileRecord,
  type Job,
  type JobStoreOptions,
  type PendingAction,
} from '@batchscribe/shared';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { QUEUES, type BatchJobPayload } from '@batchscribe/shared';
import { sweepIntake } from '../../apps/worker/src/intake-sweeper.js';
import { Stack, urls } from '../support/stack.js';

/**
 * Cancel, retry and delete of a large job run as bounded chunks: between any two chunks the
 * counts sum to the total (files and batches), a job half-way through a cancel reads
 * `cancelling`, and an action stopped after chunk k (a crash) is finished by whoever comes next.
 */

const FILES = 20_000;
const BATCHES = FILES / 100;

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ worker: false });
});
afterAll(async () => {
  await stack.stop();
});

class Crash extends Error {}

interface Seen {
  chunks: number;
  statuses: Set<string>;
}

async function counts(jobId: string): Promise<{ files: Counts; batches: Counts }> {
  const h = await stack.redis.hgetall(stack.keys.job(jobId));
  const of = (p: string): Counts => ({
    total: Number(h[`${p}_total`] ?? 0),
    queued: Number(h[`${p}_queued`] ?? 0),
    submitted: Number(h[`${p}_submitted`] ?? 0),
    completed: Number(h[`${p}_completed`] ?? 0),
    failed: Number(h[`${p}_failed`] ?? 0),
    cancelled: Number(h[`${p}_cancelled`] ?? 0),
  });
  return { files: of('f'), batches: of('b') };
}

function expectInvariant(c: { files: Counts; batches: Counts }): void {
  for (const k of [c.files, c.batches]) expect(k.queued + k.submitted + k.completed + k.failed + k.cancelled).toBe(k.total);
}

/** A store that checks the invariant after every chunk, notes what GET shows, and crashes after chunk `crashAfter` if given. */
function store(seen: Seen, opts: { crashAfter?: number; enqueued?: number[] } = {}): JobStore {
  const options: JobStoreOptions = {
    retentionS: 600,
    batchSize: 100,
    // Fixed here so the chunk counts below do not follow the defaults.
    chunks: { cancelBatches: 10, retryHomes: 10, retryBatches: 10, deleteBatches: 100 },
    enqueue: async (_jobId, batches) => {
      opts.enqueued?.push(...batches);
    },
    afterChunk: async (_action: PendingAction, jobId: string, chunk: number) => {
      seen.chunks++;
      expectInvariant(await counts(jobId));
      const res = await stack.request<Job>('GET', `/v1/jobs/${jobId}`);
      seen.statuses.add(res.status === 200 ? res.body.status : String(res.status));
      if (opts.crashAfter !== undefined && chunk >= opts.crashAfter) throw new Crash(`stopped after chunk ${chunk}`);
    },
  };
  return new JobStore(stack.redis, stack.keys, options);
}

/** The job's own keys (not BullMQ's records of its batches). */
const keysOf = async (jobId: string) => (await stack.keysUnderPrefix()).filter((k) => k.startsWith(stack.keys.jobKeyPrefix(jobId)));

const fresh = (): Seen => ({ chunks: 0, statuses: new Set() });

/** Ends every batch of the job as a worker would: every tenth file failed, the rest completed. */
async function finishWithFailures(jobId: string): Promise<void> {
  const batches = new BatchStore(stack.redis, stack.keys, 600);
  for (let b = 0; b < BATCHES; b++) {
    const indexes = Array.from({ length: 100 }, (_, k) => b * 100 + k);
    const records = await batches.readFiles(jobId, indexes);
    const files = indexes.map((index, k) => {
      const failed = index % 10 === 0;
      const record: FileRecord = failed
        ? { ...records[k]!, s: 'failed', e: { code: 'InvalidFile', message: 'no speech' } }
        : { ...records[k]!, s: 'completed' };
      return { index, record };
    });
    expect(await batches.finish(jobId, b, ['queued'], 'completed', files)).toBe(true);
  }
}

describe(`chunked actions on a ${FILES}-file job`, () => {
  it('when it is cancelled, then it runs in chunks, reads cancelling between them with the counts summing up, and ends cancelled', async () => {
    const job = await stack.submit({ file_urls: urls(FILES) });
    const seen = fresh();
    expect(await store(seen).cancel(job.id, 'acme')).toBe('ok');
    expect(seen.chunks).toBe(BATCHES / 10);
    expect([...seen.statuses]).toEqual(['cancelling']);
    const done = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(done.status).toBe('cancelled');
    expect(done.counts).toMatchObject({ total: FILES, cancelled: FILES, queued: 0 });
    expect(await stack.redis.zscore(stack.keys.pendingActions, job.id)).toBeNull();
  });

  it('when a cancel stops after chunk 5, then the job reads cancelling with consistent counts, and the next cancel call finishes it', async () => {
    const job = await stack.submit({ file_urls: urls(FILES) });
    await expect(store(fresh(), { crashAfter: 5 }).cancel(job.id, 'acme')).rejects.toThrow(Crash);
    const half = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(half.status).toBe('cancelling');
    expect(half.counts.cancelled).toBe(6 * 10 * 100);
    expect(half.counts.queued).toBe(FILES - 6 * 10 * 100);
    expectInvariant(await counts(job.id));

    const res = await stack.request('POST', `/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(202);
    const done = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(done.status).toBe('cancelled');
    expect(done.counts).toMatchObject({ cancelled: FILES, queued: 0 });
  });

  it('when a cancel stops after chunk 2 and nobody calls again, then the worker sweep finishes it', async () => {
    const job = await stack.submit({ file_urls: urls(FILES) });
    await expect(store(fresh(), { crashAfter: 2 }).cancel(job.id, 'acme')).rejects.toThrow(Crash);
    expect((await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body.status).toBe('cancelling');
    const jobs = store(fresh());
    const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: stack.redis, prefix: stack.keys.bullPrefix });
    try {
      await sweepIntake({ redis: stack.redis, keys: stack.keys, queue, logger: pino({ level: 'silent' }), jobs, graceMs: 0 });
    } finally {
      await queue.close();
    }
    const done = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(done.status).toBe('cancelled');
    expect(done.counts.cancelled).toBe(FILES);
  });

  it('when a job with 2,000 failed files is retried, then chunks scan and re-batch them, the counts sum up between chunks, and only the failed go out', async () => {
    const job = await stack.submit({ file_urls: urls(FILES) });
    await finishWithFailures(job.id);
    expect((await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body.status).toBe('completed_with_errors');
    const seen = fresh();
    const enqueued: number[] = [];
    expect(await store(seen, { enqueued }).retry(job.id, 'acme')).toEqual({ word: 'ok', batches: 20 });
    // 20 scans of 1,000 records, the commit, and two emits of 10 batches.
    expect(seen.chunks).toBe(FILES / 1000 + 1 + 2);
    expect(enqueued).toEqual(Array.from({ length: 20 }, (_, k) => BATCHES + k));
    const after = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(after.status).toBe('running');
    expect(after.counts).toMatchObject({ total: FILES, completed: FILES - 2000, queued: 2000, failed: 0 });
    expect(after.batches).toMatchObject({ total: BATCHES + 20, queued: 20 });
    const first = JSON.parse((await stack.redis.hget(stack.keys.batch(job.id, BATCHES), 'files')) ?? '[]') as number[];
    expect(first.slice(0, 3)).toEqual([0, 10, 20]);
  });

  it('when a retry stops while scanning, then the job is as it was; when it stops after the commit, the next retry call finishes it', async () => {
    const job = await stack.submit({ file_urls: urls(FILES) });
    await finishWithFailures(job.id);
    const before = await counts(job.id);

    await expect(store(fresh(), { crashAfter: 7 }).retry(job.id, 'acme')).rejects.toThrow(Crash);
    expect((await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body.status).toBe('completed_with_errors');
    expect(await counts(job.id)).toEqual(before);

    // The next caller resumes the scan where it stopped; this one stops again right after the commit (chunk 20 of this run).
    await expect(store(fresh(), { crashAfter: 12 }).retry(job.id, 'acme')).rejects.toThrow(Crash);
    const committed = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(committed.status).toBe('running');
    expect(committed.counts).toMatchObject({ failed: 2000, queued: 0 });
    expectInvariant(await counts(job.id));

    const res = await stack.request<{ status: string }>('POST', `/v1/jobs/${job.id}/retry`);
    expect(res.status).toBe(202);
    const after = (await stack.request<Job>('GET', `/v1/jobs/${job.id}`)).body;
    expect(after.counts).toMatchObject({ queued: 2000, failed: 0 });
    expect(after.batches.total).toBe(BATCHES + 20);
    expect(await stack.redis.hget(stack.keys.job(job.id), 'pending_action')).toBeNull();
  });

  it('when a delete stops after its first chunk, then the job reads as missing and is off the list, and the next delete call removes every key', async () => {
    const job = await stack.submit({ file_urls: urls(FILES) });
    expect(await store(fresh()).cancel(job.id, 'acme')).toBe('ok');
    const seen = fresh();
    await expect(store(seen, { crashAfter: 0 }).delete(job.id, 'acme')).rejects.toThrow(Crash);
    expect([...seen.statuses]).toEqual(['404']);
    const list = await stack.request<{ data: Job[] }>('GET', '/v1/jobs?limit=100');
    expect(list.body.data.map((j) => j.id)).not.toContain(job.id);
    expect((await keysOf(job.id)).length).toBeGreaterThan(0);

    expect((await stack.request('DELETE', `/v1/jobs/${job.id}`)).status).toBe(204);
    expect(await keysOf(job.id)).toEqual([]);
    expect(await stack.redis.zscore(stack.keys.pendingActions, job.id)).toBeNull();
  });
});
