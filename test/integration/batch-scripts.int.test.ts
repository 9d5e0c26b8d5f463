import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchStore, ReuseIndex, batchScripts, finishUsage } from '@batchscribe/shared';
import { snapshotKeys } from '../support/raw-http.js';
import { Stack, urls } from '../support/stack.js';

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
