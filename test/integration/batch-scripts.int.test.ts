import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchStore, batchScripts } from '@batchscribe/shared';
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
  expect(await store.claimSubmit(job.id, 0, 'tok', Date.now() + 60_000, 10)).toBe('claimed');
  return { jobId: job.id, token: 'tok' };
}

/** finishBatch's keys and arguments as BatchStore.finish sends them, with the given fields and file triples. */
function finishArgs(jobId: string, fields: string, triples: string[]): [number, ...(string | number)[]] {
  const k = stack.keys;
  const keys = [k.job(jobId), k.batch(jobId, 0), k.inflight, k.webhookOutbox, ...k.batches(jobId, 0, 1)];
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
    ...triples,
  ];
}

const error = JSON.stringify({ code: 'InvalidFile', message: 'no speech' });

describe('finishBatch refuses bad arguments before writing', () => {
  it.each([
    ['batch fields that are not JSON', '{oops', ['0', 'failed', error]],
    ['a file status it does not know', '{}', ['0', 'failed', error, '1', 'lost', '']],
    ['an error cjson cannot decode (a lone surrogate)', '{}', ['0', 'failed', error, '1', 'failed', '{"code":"\\ud800","message":"x"}']],
    ['a file index that is not a number', '{}', ['zero', 'failed', error]],
    ['a file that is not the job\'s', '{}', ['0', 'failed', error, '250', 'failed', error]],
    ['file arguments that are not triples', '{}', ['0', 'failed']],
  ])('when given %s, then an error reply and nothing changed', async (_what, fields, triples) => {
    const { jobId } = await claimedBatch();
    const before = await state();
    await expect(batchScripts(stack.redis).bsFinishBatch(...finishArgs(jobId, fields, triples))).rejects.toThrow(
      /^BADARGS .*nothing was changed/,
    );
    expect(await state()).toBe(before);
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
