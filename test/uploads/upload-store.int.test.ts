import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { UploadStore, createKeyLayout, newUploadId, uploadStatusAt, type NewUpload } from '@batchscribe/shared';

/** The upload records the job intake and the media handoff will use (phase 2), on real Redis. */
describe('UploadStore', () => {
  let redis: Redis;
  let store: UploadStore;
  const keys = createKeyLayout(`t${randomUUID().slice(0, 8)}`);
  const T0 = 1_800_000_000_000;
  const TTL = 60_000;
  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL!);
    store = new UploadStore(redis, keys);
  });
  afterAll(async () => {
    const found = await redis.keys(`{${keys.bullPrefix.slice(1, -1)}}*`);
    if (found.length > 0) await redis.del(...found);
    await redis.quit();
  });

  async function anUpload(over: Partial<NewUpload> = {}, ready = true): Promise<string> {
    const id = newUploadId(T0);
    await store.create({ id, tenant: 'acme', filename: 'a.wav', size: 10, createdAt: T0, expiresAt: T0 + TTL, ...over });
    if (ready) await store.markReady(id, 10, 'ab'.repeat(32));
    return id;
  }

  it('when a job names uploads, then each resolves to its record or to why not: unknown, foreign, unfinished, expired', async () => {
    const ready = await anUpload();
    const foreign = await anUpload({ tenant: 'globex' });
    const unfinished = await anUpload({}, false);
    const old = await anUpload({ expiresAt: T0 + 10 });
    const out = await store.resolveReady('acme', [ready, 'upl_01jz0000000000000000000000', foreign, unfinished, old], T0 + 1_000);
    expect(out.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'unknown', 'foreign', 'unfinished', 'expired']);
    expect(out[0]).toMatchObject({ ok: true, upload: { id: ready, state: 'ready', sha256: 'ab'.repeat(32), jobs: [] } });
  });

  it('when a job attaches an upload, then the TTL stops applying until its last job releases it, and then it is due at once', async () => {
    const id = await anUpload();
    expect(await store.attachToJob(id, 'job_a', T0)).toBe('attached');
    expect(await store.attachToJob(id, 'job_a', T0)).toBe('attached');
    expect(await store.attachToJob(id, 'job_b', T0)).toBe('attached');
    expect(await store.due(T0 + 10 * TTL, 1000)).not.toContain(id);
    const rec = (await store.get(id))!;
    expect(rec.jobs).toEqual(['job_a', 'job_b']);
    expect(uploadStatusAt(rec, T0 + 10 * TTL)).toBe('ready');
    expect(await store.beginDelete(id)).toBe('in_use');
    expect(await store.release(id, 'job_a', T0 + 5)).toBe(1);
    expect(await store.due(T0 + 5, 1000)).not.toContain(id);
    expect(await store.release(id, 'job_b', T0 + 6)).toBe(0);
    expect(await store.due(T0 + 6, 1000)).toContain(id);
    expect(await store.beginDelete(id, T0 + 6)).toBe('delete');
    // Being deleted: nothing attaches it any more.
    expect(await store.attachToJob(id, 'job_c', T0 + 7)).toBe('expired');
    await store.forget(id);
    expect(await store.get(id)).toBeNull();
    expect(await store.release(id, 'job_b', T0 + 8)).toBe(-1);
  });

  it('when an upload is past its TTL or unfinished, then attaching it is refused with the reason', async () => {
    expect(await store.attachToJob(await anUpload(), 'job_x', T0 + TTL)).toBe('expired');
    expect(await store.attachToJob(await anUpload({}, false), 'job_x', T0)).toBe('unfinished');
    expect(await store.attachToJob('upl_01jz0000000000000000000000', 'job_x', T0)).toBe('unknown');
  });

  it('when the sweeper looks before an upload is due, then it is left alone', async () => {
    const id = await anUpload();
    expect(await store.beginDelete(id, T0 + TTL - 1)).toBe('not_due');
    expect((await store.get(id))!.deleting).toBe(false);
  });

  it('when progress is saved after the record is being deleted, then the record is not brought back', async () => {
    const id = await anUpload({}, false);
    await store.saveProgress(id, 5, { offset: 5, state: Buffer.from([0, 1, 255]) });
    expect(await store.hashProgress(id)).toEqual({ offset: 5, state: Buffer.from([0, 1, 255]) });
    expect(await store.beginDelete(id)).toBe('delete');
    await store.forget(id);
    expect(await store.saveProgress(id, 6, null)).toBe(false);
    expect(await redis.exists(keys.upload(id))).toBe(0);
  });
});
