import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BatchStore,
  ReuseIndex,
  UsageStore,
  USAGE_KEEP_S,
  batchScripts,
  finishUsage,
  type FileRecord,
  type Job,
} from '@batchscribe/shared';
import { snapshotKeys } from '../support/raw-http.js';
import { Stack, TOKENS, urls } from '../support/stack.js';

/*
 * Usage as the store keeps it, through real Redis: what FINISH_BATCH adds to the Job and to the
 * tenant's day, month and totals, in the step that moves the counts; and GET /v1/usage's answers
 * to ranges it must refuse. No worker: the test ends batches as a worker would.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ worker: false, apiEnv: { BATCH_SIZE: '2', TENANT_BUDGETS: 'acme:10' } });
});
afterAll(async () => {
  await stack.stop();
});

const DAY1 = Date.UTC(2026, 10, 30, 23, 59, 0);
const DAY2 = Date.UTC(2026, 11, 1, 0, 1, 0);

interface UsageReport {
  data: Array<{ date: string; jobs: number; files: number; audio_seconds: number; billed_seconds: number | null; reused_files: number }>;
  budget: { month: string; hours: number; used_hours: number; remaining_hours: number } | null;
}

const getJob = async (id: string, token: string = TOKENS.acme) => (await stack.request<Job>('GET', `/v1/jobs/${id}`, { token })).body;
const state = () => snapshotKeys(stack.redis, `{${stack.prefix}}*`, (k) => k.includes(':ratelimit:'));

/** Ends batch `b` of a job as a worker would: the files at `failed` positions fail, the others complete. */
async function finishBatch(
  jobId: string,
  b: number,
  usage: { at: number; audioMs: number; billedMs: number | null } | null,
  failed: number[] = [],
): Promise<boolean> {
  const store = new BatchStore(stack.redis, stack.keys, 600);
  const indexes = [2 * b, 2 * b + 1];
  const records = await store.readFiles(jobId, indexes);
  const files = indexes.map((index, k) => {
    const record: FileRecord = failed.includes(k)
      ? { ...records[k]!, s: 'failed', e: { code: 'InvalidFile.DownloadFailed', message: 'gone' } }
      : { ...records[k]!, s: 'completed' };
    return { index, record };
  });
  const next = files.some((f) => f.record.s === 'completed') ? 'completed' : 'failed';
  return store.finish(jobId, b, ['queued'], next, files, {}, usage && { ...usage, reused: 0 });
}

describe('usage recorded with the counts (FINISH_BATCH)', () => {
  it('when batches end across midnight, then the Job, each UTC day, the month and the totals add up, and a replay adds nothing', async () => {
    const job = await stack.submit({ file_urls: urls(6, 'midnight') });
    const usage = new UsageStore(stack.redis, stack.keys);

    expect(await finishBatch(job.id, 0, { at: DAY1, audioMs: 1_800_000, billedMs: 1_500_000 })).toBe(true);
    expect((await getJob(job.id)).usage).toEqual({ audio_seconds: 1_800, billed_seconds: 1_500, reused_files: 0 });
    const before = await state();
    // A second processor replaying the same step finds the batch ended: nothing moves, nothing is counted.
    expect(await finishBatch(job.id, 0, { at: DAY1, audioMs: 1_800_000, billedMs: 1_500_000 })).toBe(false);
    expect(await state()).toBe(before);

    // The same day again (no billed figure reported), then the next day with one file failed.
    expect(await finishBatch(job.id, 1, { at: DAY1, audioMs: 600_500, billedMs: null })).toBe(true);
    expect(await finishBatch(job.id, 2, { at: DAY2, audioMs: 300_000, billedMs: 250_000 }, [1])).toBe(true);

    const final = await getJob(job.id);
    expect(final).toMatchObject({ status: 'completed_with_errors', counts: { completed: 5, failed: 1 } });
    expect(final.usage).toEqual({ audio_seconds: 2_700.5, billed_seconds: 1_750, reused_files: 0 });
    expect(await usage.days('acme', '2026-11-29', '2026-12-02')).toEqual([
      { date: '2026-11-30', jobs: 1, files: 4, audio_seconds: 2_400.5, billed_seconds: 1_500, reused_files: 0 },
      { date: '2026-12-01', jobs: 1, files: 1, audio_seconds: 300, billed_seconds: 250, reused_files: 0 },
    ]);
    expect(await usage.monthAudioMs('acme', '2026-11')).toBe(2_400_500);
    expect(await usage.monthAudioMs('acme', '2026-12')).toBe(300_000);
    expect(await usage.totals()).toContainEqual({ tenant: 'acme', files: 5, audioSeconds: 2_700.5, billedSeconds: 1_750, reusedFiles: 0 });

    // The counters outlive the job: 400 days, whatever JOB_RETENTION_S is.
    const dayTtl = await stack.redis.ttl(stack.keys.usageDay('acme', '2026-11-30'));
    expect(dayTtl).toBeGreaterThan(USAGE_KEEP_S - 60);
    expect(await stack.redis.ttl(stack.keys.usageMonth('acme', '2026-12'))).toBeGreaterThan(USAGE_KEEP_S - 60);
    expect(await stack.redis.ttl(stack.keys.job(job.id))).toBeLessThanOrEqual(600);
  });

  it('when a second job of the tenant ends the same day, then that day counts two jobs; another tenant is counted apart', async () => {
    const [a, b] = [await stack.submit({ file_urls: urls(2, 'same-day-a') }), await stack.submit({ file_urls: urls(2, 'same-day-b') })];
    const g = await stack.submit({ file_urls: urls(2, 'globex-day') }, TOKENS.globex);
    const at = Date.UTC(2026, 5, 10, 12);
    for (const id of [a.id, b.id, g.id]) expect(await finishBatch(id, 0, { at, audioMs: 60_000, billedMs: 60_000 })).toBe(true);

    const usage = new UsageStore(stack.redis, stack.keys);
    expect(await usage.days('acme', '2026-06-10', '2026-06-10')).toEqual([
      { date: '2026-06-10', jobs: 2, files: 4, audio_seconds: 120, billed_seconds: 120, reused_files: 0 },
    ]);
    expect(await usage.days('globex', '2026-06-10', '2026-06-10')).toEqual([
      { date: '2026-06-10', jobs: 1, files: 2, audio_seconds: 60, billed_seconds: 60, reused_files: 0 },
    ]);
  });

  it('when a task fails upstream reporting 0 billed, then the Job shows billed 0 and no day gets a row; with no report it stays null', async () => {
    const reported = await stack.submit({ file_urls: urls(2, 'failed-0') });
    const silent = await stack.submit({ file_urls: urls(2, 'failed-none') });
    const at = Date.UTC(2026, 6, 4, 8);
    expect(await finishBatch(reported.id, 0, { at, audioMs: 0, billedMs: 0 }, [0, 1])).toBe(true);
    expect(await finishBatch(silent.id, 0, null, [0, 1])).toBe(true);

    expect((await getJob(reported.id)).usage).toEqual({ audio_seconds: 0, billed_seconds: 0, reused_files: 0 });
    expect((await getJob(silent.id)).usage).toEqual({ audio_seconds: 0, billed_seconds: null, reused_files: 0 });
    expect(await new UsageStore(stack.redis, stack.keys).days('acme', '2026-07-04', '2026-07-04')).toEqual([]);
  });

  it('when the usage keys name another tenant than the job’s, then the script refuses before writing (STALE)', async () => {
    const job = await stack.submit({ file_urls: urls(2, 'stale-tenant') });
    const k = stack.keys;
    const counted = finishUsage(k, 'globex', { at: DAY1, audioMs: 1, billedMs: null, reused: 0 });
    const learnt = new ReuseIndex(stack.redis, k, 60).learning('globex', DAY1, new Map());
    const keys = [k.job(job.id), k.batch(job.id, 0), k.inflight, k.webhookOutbox, ...counted.keys, learnt.key, ...k.batches(job.id, 0, 1)];
    const before = await state();
    await expect(
      batchScripts(stack.redis).bsFinishBatch(
        keys.length,
        ...keys,
        'queued',
        'completed',
        new Date().toISOString(),
        60,
        '{}',
        k.jobEvents,
        job.id,
        counted.arg,
        learnt.arg,
        '0',
        'completed',
        '',
      ),
    ).rejects.toThrow(/^STALE .*nothing was changed/);
    expect(await state()).toBe(before);
  });
});

describe('budget holds as the api shows them', () => {
  it('when a worker holds a tenant for its budget, then its queued jobs say budget_exhausted until the hold is released or lapses', async () => {
    const job = await stack.submit({ file_urls: urls(2, 'held') });
    const other = await stack.submit({ file_urls: urls(2, 'not-held') }, TOKENS.globex);
    const usage = new UsageStore(stack.redis, stack.keys);

    expect(await usage.hold('acme', { month: '2026-12', hours: 10, usedHours: 10.25 }, 60_000)).toBe(true);
    expect(await usage.hold('acme', { month: '2026-12', hours: 10, usedHours: 10.25 }, 300)).toBe(false);
    const held = await getJob(job.id);
    expect(held.waiting_reason).toEqual({
      code: 'budget_exhausted',
      message: expect.stringMatching(/^Tenant acme has used 10\.25 of its 10 audio hours for 2026-12 \(TENANT_BUDGETS\)/),
    });
    expect((await getJob(other.id, TOKENS.globex)).waiting_reason).toBeNull();

    // Not refreshed (no held batch looked again): it lapses by itself.
    await new Promise((r) => setTimeout(r, 400));
    expect((await getJob(job.id)).waiting_reason).toBeNull();
    await usage.hold('acme', { month: '2026-12', hours: 10, usedHours: 10.25 }, 60_000);
    expect(await usage.release('acme')).toBe(true);
    expect((await getJob(job.id)).waiting_reason).toBeNull();
  });
});

describe('GET /v1/usage', () => {
  it.each([
    ['a day not written YYYY-MM-DD', '?from=2026-1-5', 400, 'malformed-request', 'from'],
    ['a day not on the calendar', '?to=2026-02-30', 400, 'malformed-request', 'to'],
    ['from after to', '?from=2026-11-05&to=2026-11-01', 422, 'validation-error', 'from'],
    ['a range of 401 days', '?from=2025-01-01&to=2026-02-05', 422, 'validation-error', 'to'],
  ])('when the query has %s, then a problem+json names the parameter and nothing is written', async (_what, query, status, type, path) => {
    const before = await state();
    const res = await stack.request<{ type: string; errors: Array<{ path: string }> }>('GET', `/v1/usage${query}`);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(new RegExp(`/${type}$`));
    expect(res.body.errors.map((e) => e.path)).toEqual([path]);
    expect(await state()).toBe(before);
  });

  it('when the range is the longest allowed (400 days), then it answers, with the caller’s rows only and its budget', async () => {
    const acme = await stack.request<UsageReport>('GET', '/v1/usage?from=2026-01-01&to=2027-02-04');
    expect(acme.status).toBe(200);
    expect(acme.body.data.map((d) => d.date)).toEqual(['2026-06-10', '2026-11-30', '2026-12-01']);
    expect(acme.body.budget).toMatchObject({ hours: 10, month: new Date().toISOString().slice(0, 7) });
    const globex = await stack.request<UsageReport>('GET', '/v1/usage?from=2026-01-01&to=2027-02-04', { token: TOKENS.globex });
    expect(globex.body).toEqual({
      data: [{ date: '2026-06-10', jobs: 1, files: 2, audio_seconds: 60, billed_seconds: 60, reused_files: 0 }],
      budget: null,
    });
  });

  it('when called without a token, then 401', async () => {
    expect((await stack.request('GET', '/v1/usage', { token: null })).status).toBe(401);
  });
});
