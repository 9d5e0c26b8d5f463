import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchStore, ReuseIndex, batchScripts, finishUsage, type Job, type ReusePlan } from '@batchscribe/shared';
import { snapshotKeys } from '../support/raw-http.js';
import { Stack, TOKENS, urls } from '../support/stack.js';

/**
 * The batch scripts read, decode and check every argument before their first write: a script
 * that dies half-way keeps its earlier writes (Redis does not roll a script back), so a bad
 * argument must be refused with everything as it was.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ worker: false });
});
afterAll(async () => {
  await stack.stop();
});

const state = () => snapshotKeys(stack.redis, `{${stack.prefix}}*`, (k) => k.includes(':ratelimit:'));

async function claimedBatch(): Promise<{ jobId: string; token: string }> {
  const job = await stack.submit({ file_urls: urls(2) });
  const store = new BatchStore(stack.redis, stack.keys, 60);
  // A slot per case: the refused finishes keep theirs, so the cap is set above the cases' count.
  expect(await store.claimSubmit(job.id, 0, 'tok', Date.now() + 60_000, 100)).toBe('claimed');
  return { jobId: job.id, token: 'tok' };
}

/** finishBatch's keys and arguments as BatchStore.finish sends them, with the given fields, file triples, usage and reuse entries. */
function finishArgs(jobId: string, fields: string, triples: string[], usage?: string, learn?: string): [number, ...(string | number)[]] {
  const k = stack.keys;
  const counted = finishUsage(k, 'acme', { at: Date.now(), audioMs: 1_000, billedMs: 1_000, reused: 0 });
  const learnt = new ReuseIndex(stack.redis, k, 60).learning('acme', Date.now(), new Map([[0, 'ab'.repeat(12)]]));
  const keys = [k.job(jobId), k.batch(jobId, 0), k.inflight, k.webhookOutbox, ...counted.keys, learnt.key, ...k.batches(jobId, 0, 1)];
  return [
    keys.length,
    ...keys,
    'submitting,submitted,queued',
    'failed',
    new Date().toISOString(),
    60,
    fields,
    k.jobEvents,
    jobId,
    usage ?? counted.arg,
    learn ?? learnt.arg,
    ...triples,
  ];
}

const error = JSON.stringify({ code: 'InvalidFile', message: 'no speech' });

describe('finishBatch refuses bad arguments before writing', () => {
  it.each([
    ['batch fields that are not JSON', '{oops', ['0', 'failed', error], null],
    ['a file status it does not know', '{}', ['0', 'failed', error, '1', 'lost', ''], null],
    [
      'an error cjson cannot decode (a lone surrogate)',
      '{}',
      ['0', 'failed', error, '1', 'failed', '{"code":"\\ud800","message":"x"}'],
      null,
    ],
    ['a file index that is not a number', '{}', ['zero', 'failed', error], null],
    ["a file that is not the job's", '{}', ['0', 'failed', error, '250', 'failed', error], null],
    ['file arguments that are not triples', '{}', ['0', 'failed'], null],
    ['usage that is not JSON', '{}', ['0', 'completed', ''], '{oops'],
    ['usage without a day', '{}', ['0', 'completed', ''], '{"tenant":"acme","audio_ms":1,"reused":0,"keep_s":60}'],
    [
      'usage with a fractional count',
      '{}',
      ['0', 'completed', ''],
      '{"tenant":"acme","day":"2026-11-02","audio_ms":1.5,"reused":0,"keep_s":60}',
    ],
    [
      'usage with a negative billed figure',
      '{}',
      ['0', 'completed', ''],
      '{"tenant":"acme","day":"2026-11-02","audio_ms":1,"billed_ms":-1,"reused":0,"keep_s":60}',
    ],
  ])('when given %s, then an error reply and nothing changed', async (_what, fields, triples, usage) => {
    const { jobId } = await claimedBatch();
    const before = await state();
    await expect(batchScripts(stack.redis).bsFinishBatch(...finishArgs(jobId, fields, triples, usage ?? undefined))).rejects.toThrow(
      /^BADARGS .*nothing was changed/,
    );
    expect(await state()).toBe(before);
  });

  it.each([
    ['reuse entries that are not JSON', '{oops'],
    ['reuse entries without a time', '{"fps":{"0":"' + 'ab'.repeat(12) + '"}}'],
    ['a fingerprint that is not 24 hex digits', '{"at":1,"ttl":60,"fps":{"0":"abc"}}'],
    ['a reuse entry for an index that is not a number', '{"at":1,"ttl":60,"fps":{"x":"' + 'ab'.repeat(12) + '"}}'],
  ])('when given %s, then an error reply and nothing changed (no index entry either)', async (_what, learn) => {
    const { jobId } = await claimedBatch();
    const before = await state();
    await expect(
      batchScripts(stack.redis).bsFinishBatch(...finishArgs(jobId, '{}', ['0', 'completed', ''], undefined, learn)),
    ).rejects.toThrow(/^BADARGS .*nothing was changed/);
    expect(await state()).toBe(before);
  });

  it('when a batch completes a file, then the tenant index learns it; a failed file is not learnt', async () => {
    const { jobId } = await claimedBatch();
    const index = new ReuseIndex(stack.redis, stack.keys, 60);
    const fps = new Map([
      [0, '01'.repeat(12)],
      [1, '02'.repeat(12)],
    ]);
    const learnt = index.learning('acme', Date.now(), fps);
    const args = finishArgs(jobId, '{}', ['0', 'completed', '', '1', 'failed', error], undefined, learnt.arg);
    expect(await batchScripts(stack.redis).bsFinishBatch(...args)).toBe(1);
    expect(await index.lookup('acme', [...fps.values()], Date.now())).toEqual([{ jobId, index: 0 }, null]);
    // Another tenant's index knows nothing of it.
    expect(await index.lookup('globex', [...fps.values()], Date.now())).toEqual([null, null]);
    expect(await stack.redis.ttl(learnt.key)).toBeGreaterThan(60);
  });

  it('when the home record of a file is damaged (its statuses gone), then DAMAGED and nothing changed', async () => {
    const { jobId } = await claimedBatch();
    await stack.redis.hdel(stack.keys.batch(jobId, 0), 'st');
    const before = await state();
    await expect(batchScripts(stack.redis).bsFinishBatch(...finishArgs(jobId, '{}', ['0', 'failed', error]))).rejects.toThrow(
      /^DAMAGED .*nothing was changed/,
    );
    expect(await state()).toBe(before);
  });

  it('when a batch ends with no file outcomes, then it still ends (no HINCRBY by -0)', async () => {
    const { jobId } = await claimedBatch();
    expect(await batchScripts(stack.redis).bsFinishBatch(...finishArgs(jobId, '{}', []))).toBe(1);
    expect(await stack.redis.hget(stack.keys.batch(jobId, 0), 'state')).toBe('failed');
  });
});

describe('recordSubmitted refuses bad arguments before writing', () => {
  it('when the batch fields are not JSON, then an error reply and the batch is still submitting', async () => {
    const { jobId, token } = await claimedBatch();
    const k = stack.keys;
    const before = await state();
    const keys = [k.job(jobId), k.batch(jobId, 0), k.inflight, k.batch(jobId, 0)];
    await expect(
      batchScripts(stack.redis).bsRecordSubmitted(keys.length, ...keys, token, new Date().toISOString(), '[not json', 0),
    ).rejects.toThrow(/^BADARGS /);
    expect(await state()).toBe(before);
    expect(await stack.redis.hget(k.batch(jobId, 0), 'state')).toBe('submitting');
  });
});

describe('records made from upstream data', () => {
  it('when an upstream error message holds a lone surrogate, then the stored record is still readable by the scripts', async () => {
    const { jobId } = await claimedBatch();
    const store = new BatchStore(stack.redis, stack.keys, 60);
    const failed = (index: number) => ({
      index,
      record: { u: urls(2)[index]!, b: 0, s: 'failed' as const, e: { code: 'InvalidFile', message: `bad \ud800 file` } },
    });
    expect(await store.finish(jobId, 0, ['submitting'], 'failed', [failed(0), failed(1)])).toBe(true);
    const [stored] = await store.readFiles(jobId, [1]);
    expect(stored?.e?.message).toBe('bad \ufffd file');
    const retried = await stack.request<{ status: string }>('POST', `/v1/jobs/${jobId}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('running');
  });
});

describe('reuseSplit checks everything before writing', () => {
  async function reuseJob(): Promise<{ jobId: string; source: string; store: BatchStore }> {
    const source = await stack.submit({ file_urls: urls(2, 'split-source') });
    const job = await stack.submit({ file_urls: urls(2, 'split'), reuse: true });
    return { jobId: job.id, source: source.id, store: new BatchStore(stack.redis, stack.keys, 60) };
  }
  const plan = (source: string, over: Partial<ReusePlan> = {}): ReusePlan => ({
    expected: [0, 1],
    reused: [{ index: 0, source: { jobId: source, index: 1 } }],
    deferred: [],
    rest: [1],
    at: Date.now(),
    ...over,
  });

  it('when a file is reused, then it completes with its source, the source learns the referrer, and the rest stay to submit', async () => {
    const { jobId, source, store } = await reuseJob();
    expect(await store.reuseSplit(jobId, 0, plan(source))).toEqual({ kind: 'ok', ended: false, created: null });
    const [reused, rest] = await store.readFiles(jobId, [0, 1]);
    expect(reused).toMatchObject({ s: 'completed', rf: { j: source, i: 1 } });
    expect(reused?.t).toBeUndefined();
    expect(rest).toMatchObject({ s: 'queued' });
    expect((await store.get(jobId, 0))?.files).toEqual([1]);
    expect(await stack.redis.smembers(stack.keys.blobRefs(source))).toEqual([jobId]);
    const job = await stack.request<Job>('GET', `/v1/jobs/${jobId}`);
    expect(job.body).toMatchObject({
      status: 'running',
      counts: { queued: 1, completed: 1 },
      usage: { reused_files: 1, audio_seconds: 0 },
    });
  });

  it.each([
    ['a planned file that is not in the batch', (): Partial<ReusePlan> => ({ rest: [5] }), /^BADARGS file 5 is not in the batch/],
    ['lists that do not add up to the batch', (): Partial<ReusePlan> => ({ rest: [] }), /^BADARGS the planned files are not/],
    [
      'a reused entry with a negative source index',
      (source: string): Partial<ReusePlan> => ({ reused: [{ index: 0, source: { jobId: source, index: -1 } }] }),
      /^BADARGS a reused file is not/,
    ],
  ])('when given %s, then an error reply and nothing changed', async (_what, over, refusal) => {
    const { jobId, source, store } = await reuseJob();
    const before = await state();
    await expect(store.reuseSplit(jobId, 0, plan(source, over(source)))).rejects.toThrow(refusal);
    expect(await state()).toBe(before);
  });

  it('when a file planned for reuse is not queued any more, then DAMAGED and nothing changed', async () => {
    const { jobId, source, store } = await reuseJob();
    await stack.redis.hset(stack.keys.batch(jobId, 0), 'st', 'cq');
    const before = await state();
    await expect(store.reuseSplit(jobId, 0, plan(source))).rejects.toThrow(/^DAMAGED file 0 is not queued; nothing was changed/);
    expect(await state()).toBe(before);
  });

  it('when the home’s list of reuse sources cannot be read, then DAMAGED and nothing changed', async () => {
    const { jobId, source, store } = await reuseJob();
    await stack.redis.hset(stack.keys.batch(jobId, 0), 'rs', '[oops');
    const before = await state();
    await expect(store.reuseSplit(jobId, 0, plan(source))).rejects.toThrow(/^DAMAGED the reuse sources of batch 0 is not readable JSON/);
    expect(await state()).toBe(before);
  });

  it('when the source is another tenant’s job, or being deleted, then it is refused as a source and nothing changed', async () => {
    const { jobId, store } = await reuseJob();
    const foreign = await stack.submit({ file_urls: urls(2, 'foreign') }, TOKENS.globex);
    const before = await state();
    expect(await store.reuseSplit(jobId, 0, plan(foreign.id))).toEqual({ kind: 'invalid', sources: [foreign.id] });
    const deleting = await stack.submit({ file_urls: urls(2, 'deleting') });
    await stack.redis.hset(stack.keys.job(deleting.id), 'pending_action', 'delete');
    const withDeleting = await state();
    expect(await store.reuseSplit(jobId, 0, plan(deleting.id))).toEqual({ kind: 'invalid', sources: [deleting.id] });
    expect(await state()).toBe(withDeleting);
    expect(withDeleting).not.toBe(before);
  });

  it('when the batch carries other files than planned for, or moved on, then moved and nothing changed', async () => {
    const { jobId, source, store } = await reuseJob();
    const before = await state();
    expect(await store.reuseSplit(jobId, 0, plan(source, { expected: [1, 0], rest: [1] }))).toEqual({ kind: 'moved' });
    await stack.redis.hset(stack.keys.batch(jobId, 0), 'state', 'submitting');
    expect(await store.reuseSplit(jobId, 0, plan(source))).toEqual({ kind: 'moved' });
    await stack.redis.hset(stack.keys.batch(jobId, 0), 'state', 'queued');
    expect(await state()).toBe(before);
  });

  it('when usage is not JSON, then an error reply and nothing changed', async () => {
    const { jobId, source } = await reuseJob();
    const k = stack.keys;
    const counted = finishUsage(k, 'acme', { at: Date.now(), audioMs: 0, billedMs: null, reused: 1 });
    const keys = [
      k.job(jobId),
      k.batch(jobId, 0),
      k.batch(jobId, 1),
      k.intakePending,
      k.webhookOutbox,
      ...counted.keys,
      k.job(source),
      k.blobRefs(source),
      k.batch(jobId, 0),
    ];
    const before = await state();
    await expect(
      batchScripts(stack.redis).bsReuseSplit(
        keys.length,
        ...keys,
        new Date().toISOString(),
        60,
        k.jobEvents,
        jobId,
        '{oops',
        1,
        '[0,1]',
        '[[0,1,1]]',
        '[]',
        '[1]',
        Date.now(),
        source,
      ),
    ).rejects.toThrow(/^BADARGS usage is not a JSON object; nothing was changed/);
    expect(await state()).toBe(before);
  });

  it('when every file is reused, then the batch ends with no task and the job settles', async () => {
    const { jobId, source, store } = await reuseJob();
    const all = plan(source, {
      reused: [
        { index: 0, source: { jobId: source, index: 0 } },
        { index: 1, source: { jobId: source, index: 1 } },
      ],
      rest: [],
    });
    expect(await store.reuseSplit(jobId, 0, all)).toEqual({ kind: 'ok', ended: true, created: null });
    const job = await stack.request<Job>('GET', `/v1/jobs/${jobId}`);
    expect(job.body).toMatchObject({
      status: 'completed',
      counts: { completed: 2 },
      batches: { completed: 1 },
      usage: { reused_files: 2 },
    });
    expect(await stack.redis.ttl(stack.keys.batch(jobId, 0))).toBeGreaterThan(0);
    expect(await store.reuseSplit(jobId, 0, all)).toEqual({ kind: 'moved' });
  });

  it('when files wait for an earlier file and others go out, then the waiting ones become a new queued batch', async () => {
    const { jobId, source, store } = await reuseJob();
    const at = Date.now();
    const split = await store.reuseSplit(jobId, 0, plan(source, { reused: [], deferred: [0], rest: [1], at }));
    expect(split).toEqual({ kind: 'ok', ended: false, created: 1 });
    expect(await store.get(jobId, 1)).toMatchObject({ state: 'queued', files: [0] });
    expect((await store.readFiles(jobId, [0]))[0]).toMatchObject({ s: 'queued', b: 1 });
    expect(await stack.redis.hget(stack.keys.job(jobId), 'b_total')).toBe('2');
    // On intake pending until enqueued; cleared only by the entry this split added.
    expect(Number(await stack.redis.zscore(stack.keys.intakePending, jobId))).toBe(at);
    await store.doneEnqueueing(jobId, at - 1);
    expect(await stack.redis.zscore(stack.keys.intakePending, jobId)).not.toBeNull();
    await store.doneEnqueueing(jobId, at);
    expect(await stack.redis.zscore(stack.keys.intakePending, jobId)).toBeNull();
  });

  it('when files from uploads had their media prepared, then the entries follow the files to their new positions', async () => {
    const { jobId, source, store } = await reuseJob();
    const key = stack.keys.batch(jobId, 0);
    await stack.redis.hset(key, 'm:0', JSON.stringify({ u: 'https://f/0', at: 1 }), 'm:1', JSON.stringify({ u: 'https://f/1', at: 1 }));
    // File 0 is reused (its entry goes), file 1 stays and is now at position 0.
    expect(await store.reuseSplit(jobId, 0, plan(source))).toMatchObject({ kind: 'ok' });
    expect((await store.get(jobId, 0))?.media).toEqual({ 0: { u: 'https://f/1', at: 1 } });
  });

  it('when a new batch is needed while the job’s intake is still enqueueing, then nothing changes until it is done', async () => {
    const { jobId, source, store } = await reuseJob();
    await stack.redis.zadd(stack.keys.intakePending, 1, jobId);
    const before = await state();
    expect(await store.reuseSplit(jobId, 0, plan(source, { reused: [], deferred: [0], rest: [1] }))).toEqual({ kind: 'intake' });
    expect(await state()).toBe(before);
    // A split that makes no batch does not wait for it.
    expect(await store.reuseSplit(jobId, 0, plan(source))).toMatchObject({ kind: 'ok', created: null });
  });
});
