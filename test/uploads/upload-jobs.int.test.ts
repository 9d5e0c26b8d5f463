import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type FileResult, type Job, type UploadView } from '@batchscribe/shared';
import { wav } from '../../scripts/lib/wav.js';
import { HttpFixture } from '../support/http-fixture.js';
import { Stack, TOKENS } from '../support/stack.js';
import { runTus } from '../support/tus-client.js';
import { blobsUnder, sweepUploads } from '../support/uploads.js';
import { waitFor } from '../support/wait-for.js';

/*
 * Jobs made from uploads (files[].upload_id), end to end through the real parts: the tus
 * server and client, the worker handing the media to foxapi by MEDIA_HANDOFF, and the
 * simulator fetching the first bytes of every media URL it is given (fetchMedia), as the real
 * service does, so a URL that does not serve the file fails the test.
 */

async function upload(stack: Stack, bytes: Buffer, filename: string, token: string = TOKENS.acme): Promise<string> {
  const run = await runTus({ apiUrl: stack.apiUrl, token, bytes, filename });
  expect(run.outcome).toBe('done');
  return run.url.split('/').pop()!;
}

async function results(stack: Stack, jobId: string): Promise<FileResult[]> {
  const res = await stack.request<{ data: FileResult[] }>('GET', `/v1/jobs/${jobId}/results?limit=1000`);
  expect(res.status).toBe(200);
  return res.body.data;
}

/** A media host for URL inputs: every path answers a small WAV (the simulator fetches its first bytes). */
async function mediaHost(): Promise<HttpFixture> {
  const body = wav(1, 99);
  return HttpFixture.start(
    (_req, res) => void res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length }).end(body),
  );
}

describe.each([
  { blob: 'fs', handoff: 'foxapi' },
  { blob: 's3', handoff: 'presign' },
] as const)(
  'jobs from uploads on the $blob store with MEDIA_HANDOFF=$handoff, the simulator fetching every media URL',
  ({ blob, handoff }) => {
    let stack: Stack;
    let media: HttpFixture;
    beforeAll(async () => {
      media = await mediaHost();
      stack = await Stack.start({ blob, sim: { fetchMedia: true }, workerEnv: { MEDIA_HANDOFF: handoff } });
    });
    afterAll(async () => {
      await stack?.stop();
      await media?.close();
    });

    /** What the simulator's transcript of an uploaded file names: foxapi's copy keeps the filename, a pre-signed URL the object's key. */
    const namedIn = (uploadId: string, filename: string) => (handoff === 'foxapi' ? filename : uploadId);

    it('when a job names two ready uploads, then both are transcribed, each FileResult carries its upload_id and filename, and once the job has ended the media is deleted', async () => {
      const a = await upload(stack, wav(2, 1), 'standup.wav');
      const b = await upload(stack, wav(1, 2), 'review.m4a');
      stack.sim.reset();

      const created = await stack.submit({ files: [{ upload_id: a, ref: '2026/11/standup.wav' }, { upload_id: b }] });
      expect(created.counts.total).toBe(2);
      // While the job uses them, the TTL does not apply.
      const used = await stack.request<UploadView>('GET', `/v1/uploads/${a}`);
      expect(used.body).toMatchObject({ status: 'ready', expires_at: null });

      const job = await stack.waitForJob(created.id);
      expect(job.status).toBe('completed');
      expect(job.counts).toMatchObject({ total: 2, completed: 2, failed: 0 });
      const files = await results(stack, created.id);
      expect(files.map((f) => [f.index, f.file_url, f.upload_id, f.filename, f.ref, f.status, f.error])).toEqual([
        [0, null, a, 'standup.wav', '2026/11/standup.wav', 'completed', null],
        [1, null, b, 'review.m4a', null, 'completed', null],
      ]);
      expect(files[0]!.transcript?.text).toContain(namedIn(a, 'standup.wav'));
      expect(files[1]!.transcript?.text).toContain(namedIn(b, 'review.m4a'));

      const stats = stack.sim.stats();
      expect(stats.mediaFetches).toBe(2);
      expect(stats.mediaFetchFailures).toBe(0);
      expect(stats.submissions).toBe(1);
      const submitted = Object.keys(stats.submittedUrls);
      if (handoff === 'foxapi') {
        expect(stats.uploads).toBe(2);
        expect(submitted.every((u) => u.startsWith(`${stack.simUrl}/uploads/`))).toBe(true);
      } else {
        expect(stats.uploads).toBe(0);
        expect(submitted.every((u) => u.startsWith(process.env.TEST_S3_ENDPOINT!) && u.includes('X-Amz-Signature='))).toBe(true);
      }

      // The job's end released both uploads: due at once, deleted by the next sweep.
      await waitFor(async () => ((await stack.redis.zscore(stack.keys.uploadsDue, b)) !== null ? true : undefined), {
        what: 'uploads released',
      });
      expect(await stack.redis.scard(stack.keys.uploadJobs(a))).toBe(0);
      expect(await blobsUnder(stack, a)).not.toEqual([]);
      expect((await sweepUploads(stack)).deleted).toBeGreaterThanOrEqual(2);
      for (const id of [a, b]) {
        expect((await stack.request('GET', `/v1/uploads/${id}`)).status).toBe(404);
        expect(await blobsUnder(stack, id)).toEqual([]);
      }
      // The transcripts stay.
      expect((await stack.request('GET', `/v1/jobs/${created.id}/files/0/transcript?format=txt`)).status).toBe(200);
    });

    it('when URL and upload files are mixed, and one upload is named twice, then every result belongs to its own input', async () => {
      const a = await upload(stack, wav(1, 3), 'alpha.wav');
      const b = await upload(stack, wav(1, 4), 'beta.wav');
      const body = {
        files: [
          { url: `${media.url}/calls/one.wav` },
          { upload_id: a, ref: 'alpha' },
          { url: `${media.url}/calls/two.wav`, ref: 'two' },
          { upload_id: b },
          { upload_id: a, ref: 'alpha again' },
        ],
      };
      const job = await stack.waitForJob((await stack.submit(body)).id);
      expect(job.status).toBe('completed');
      const files = await results(stack, job.id);
      expect(files.map((f) => [f.file_url, f.upload_id, f.filename, f.ref, f.status])).toEqual([
        [`${media.url}/calls/one.wav`, null, null, null, 'completed'],
        [null, a, 'alpha.wav', 'alpha', 'completed'],
        [`${media.url}/calls/two.wav`, null, null, 'two', 'completed'],
        [null, b, 'beta.wav', null, 'completed'],
        [null, a, 'alpha.wav', 'alpha again', 'completed'],
      ]);
      const texts = files.map((f) => f.transcript?.text ?? '');
      expect(texts[0]).toContain('one.wav');
      expect(texts[1]).toContain(namedIn(a, 'alpha.wav'));
      expect(texts[2]).toContain('two.wav');
      expect(texts[3]).toContain(namedIn(b, 'beta.wav'));
      expect(texts[4]).toContain(namedIn(a, 'alpha.wav'));
      // The URL files were fetched where they are; the uploads from the store (or foxapi's copy).
      expect(media.received.map((r) => r.path).sort()).toEqual(expect.arrayContaining(['/calls/one.wav', '/calls/two.wav']));
    });
  },
);

describe('media that cannot go to foxapi (fs store, MEDIA_HANDOFF=foxapi)', () => {
  let stack: Stack;
  beforeAll(async () => {
    // foxapi's file storage holds 40 KB: a 3 s WAV (48 KB) never fits, and it answers 403 (we ask it not to evict).
    stack = await Stack.start({
      sim: { fetchMedia: true, uploadCapacityBytes: 40_000 },
      workerEnv: { MEDIA_HANDOFF: 'foxapi', FOXAPI_BACKOFF_BASE_MS: '20', FOXAPI_BACKOFF_MAX_MS: '100' },
    });
  });
  afterAll(async () => stack?.stop());

  it('when one file of a batch is refused by foxapi’s file API, then that file fails with media_handoff_failed and the rest of the batch is transcribed', async () => {
    const small = await upload(stack, wav(0.5, 5), 'small.wav');
    const big = await upload(stack, wav(3, 6), 'big.wav');
    stack.sim.reset();
    const job = await stack.waitForJob((await stack.submit({ files: [{ upload_id: big }, { upload_id: small }] })).id);
    expect(job.status).toBe('completed_with_errors');
    expect(job.counts).toMatchObject({ total: 2, completed: 1, failed: 1 });
    expect(job.batches).toMatchObject({ total: 1, completed: 1 });
    const [first, second] = await results(stack, job.id);
    expect(first).toMatchObject({ upload_id: big, status: 'failed', transcript: null });
    expect(first!.error?.code).toBe('media_handoff_failed');
    expect(first!.error?.message).toMatch(/file storage is full \(HTTP 403\) \(3 attempts\)/);
    expect(second).toMatchObject({ upload_id: small, status: 'completed', error: null });
    // Only the file that went up was submitted, once.
    const stats = stack.sim.stats();
    expect(stats.submissions).toBe(1);
    expect(Object.values(stats.submittedUrls)).toEqual([1]);
    expect(stats.byStatus['403']).toBe(3);
  });

  it('when a job from uploads that has ended is retried, then its files fail with upload_gone: the media went when the job ended', async () => {
    const big = await upload(stack, wav(3, 7), 'again.wav');
    const job = await stack.waitForJob((await stack.submit({ files: [{ upload_id: big }] })).id);
    expect(job.status).toBe('failed');
    await waitFor(async () => ((await stack.redis.scard(stack.keys.uploadJobs(big))) === 0 ? true : undefined), {
      what: 'upload released',
    });
    const submissions = stack.sim.stats().submissions;
    expect((await stack.request('POST', `/v1/jobs/${job.id}/retry`)).status).toBe(202);
    const retried = await stack.waitForJob(job.id, (j) => j.finished_at !== null && j.finished_at !== job.finished_at);
    expect(retried.status).toBe('failed');
    const [file] = await results(stack, job.id);
    expect(file!.error?.code).toBe('upload_gone');
    expect(file!.error?.message).toMatch(/released it when its files ended/);
    expect(stack.sim.stats().submissions).toBe(submissions);
  });
});

describe('POST /v1/jobs naming uploads that cannot be used', () => {
  let stack: Stack;
  let ready: string;
  let unfinished: string;
  let expired: string;
  let foreign: string;
  beforeAll(async () => {
    stack = await Stack.start({ worker: false });
    ready = await upload(stack, wav(0.5, 8), 'ready.wav');
    expired = await upload(stack, wav(0.5, 9), 'old.wav');
    // Past its TTL, not yet swept: what an upload no job used within UPLOAD_TTL_S looks like.
    await stack.redis.hset(stack.keys.upload(expired), 'expires', Date.now() - 1_000);
    foreign = await upload(stack, wav(0.5, 10), 'theirs.wav', TOKENS.globex);
    // Created, no byte sent yet (a client that stopped after its POST).
    const created = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKENS.acme}`,
        'tus-resumable': '1.0.0',
        'upload-length': '1000',
        'upload-metadata': `filename ${Buffer.from('half.wav').toString('base64')}`,
      },
    });
    expect(created.status).toBe(201);
    unfinished = created.headers.get('location')!.split('/').pop()!;
  });
  afterAll(async () => stack?.stop());

  const never = 'upl_01jc9x3k6m2v8q4r7t5w0y1z2a';
  const cases: Array<[string, () => Record<string, unknown>, RegExp]> = [
    ['unknown', () => ({ upload_id: never }), /is not an upload of yours \(no such upload\)/],
    ['another tenant’s (reads as unknown)', () => ({ upload_id: foreign }), /is not an upload of yours \(no such upload\)/],
    ['unfinished', () => ({ upload_id: unfinished }), /is still uploading/],
    ['expired', () => ({ upload_id: expired }), /has expired/],
    ['not an upload id', () => ({ upload_id: 'upl_nope' }), /must be an upload id \(upl_…\)/],
    ['a number', () => ({ upload_id: 42 }), /must be a string/],
  ];

  it.each(cases)(
    'when files[1] names an upload that is %s, then 422 names files.1.upload_id and nothing is written',
    async (_what, entry, message) => {
      // The intake rate-limit counter is bookkeeping, not job state: a refused request may count.
      const jobState = async () => (await stack.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));
      const before = await jobState();
      const res = await stack.request<{ type: string; errors: Array<{ path: string; message: string }> }>('POST', '/v1/jobs', {
        body: { files: [{ upload_id: ready }, entry(), { url: 'https://media.example.com/x.wav' }] },
      });
      expect(res.status).toBe(422);
      expect(res.body.type).toMatch(/validation-error$/);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]!.path).toBe('files.1.upload_id');
      expect(res.body.errors[0]!.message).toMatch(message);
      expect(await jobState()).toEqual(before);
      // The ready upload named alongside was not attached: its TTL still runs.
      expect(await stack.redis.scard(stack.keys.uploadJobs(ready))).toBe(0);
      expect(await stack.redis.zscore(stack.keys.uploadsDue, ready)).not.toBeNull();
    },
  );

  it('when several entries are bad, then one 422 lists each of them by its index', async () => {
    const res = await stack.request<{ errors: Array<{ path: string; message: string }> }>('POST', '/v1/jobs', {
      body: {
        files: [{ upload_id: never }, { upload_id: ready }, { upload_id: unfinished }, { upload_id: expired }, { upload_id: foreign }],
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e) => e.path)).toEqual([
      'files.0.upload_id',
      'files.2.upload_id',
      'files.3.upload_id',
      'files.4.upload_id',
    ]);
  });

  it('when an entry gives both url and upload_id, then 422 says to give exactly one; with neither, that url is missing', async () => {
    const res = await stack.request<{ errors: Array<{ path: string; message: string }> }>('POST', '/v1/jobs', {
      body: { files: [{ url: 'https://media.example.com/a.wav', upload_id: ready }, { ref: 'r' }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { path: 'files.0', message: 'must hold exactly one of upload_id, url' },
      { path: 'files.1.url', message: 'must be a string' },
    ]);
  });

  it('when an entry misspells a field, then the 422 suggests the known one', async () => {
    const res = await stack.request<{ errors: Array<{ path: string; message: string }> }>('POST', '/v1/jobs', {
      body: { files: [{ upload_id: ready, reff: 'x' }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'files.0.reff', message: 'is not a known field; did you mean ref?' }]);
  });

  it('when a schedule names an upload, then 422: schedules and manifests take URLs only', async () => {
    const base = { name: 'nightly', cron: '0 2 * * *' };
    const asFiles = await stack.request<{ errors: Array<{ path: string }> }>('POST', '/v1/schedules', {
      body: { ...base, files: [{ upload_id: ready }] },
    });
    expect(asFiles.status).toBe(422);
    expect(asFiles.body.errors.map((e) => e.path)).toContain('files');
    const asUrl = await stack.request<{ errors: Array<{ path: string; message: string }> }>('POST', '/v1/schedules', {
      body: { ...base, file_urls: [ready] },
    });
    expect(asUrl.status).toBe(422);
    expect(asUrl.body.errors[0]).toMatchObject({ path: 'file_urls.0', message: 'must be an http or https URL' });
  });

  it('when two jobs use one upload and they are cancelled one after the other, then the media falls due only once neither uses it', async () => {
    const shared = await upload(stack, wav(0.5, 12), 'shared.wav');
    const one = await stack.submit({ files: [{ upload_id: shared }] });
    const two = await stack.submit({ files: [{ url: 'https://media.example.com/x.wav' }, { upload_id: shared }] });
    expect((await stack.redis.smembers(stack.keys.uploadJobs(shared))).sort()).toEqual([one.id, two.id].sort());
    expect(await stack.redis.zscore(stack.keys.uploadsDue, shared)).toBeNull();

    // No worker runs: a cancel ends each job at once, and the api releases its uploads.
    expect((await stack.request<Job>('POST', `/v1/jobs/${one.id}/cancel`)).body.status).toBe('cancelled');
    expect(await stack.redis.smembers(stack.keys.uploadJobs(shared))).toEqual([two.id]);
    expect(await stack.redis.zscore(stack.keys.uploadsDue, shared)).toBeNull();
    expect((await stack.request<UploadView>('GET', `/v1/uploads/${shared}`)).body.expires_at).toBeNull();

    expect((await stack.request<Job>('POST', `/v1/jobs/${two.id}/cancel`)).body.status).toBe('cancelled');
    expect(await stack.redis.scard(stack.keys.uploadJobs(shared))).toBe(0);
    expect(Number(await stack.redis.zscore(stack.keys.uploadsDue, shared))).toBeLessThanOrEqual(Date.now());
    // Deleting an ended job releases nothing more, and leaves the upload to the sweeper.
    expect((await stack.request('DELETE', `/v1/jobs/${two.id}`)).status).toBe(204);
    expect((await stack.request<UploadView>('GET', `/v1/uploads/${shared}`)).status).toBe(200);
  });

  it('when a job names a ready upload with an Idempotency-Key, then a replay returns the same job and the upload is attached once', async () => {
    const headers = { 'idempotency-key': 'uploads-once' };
    const body = { files: [{ upload_id: ready, ref: 'r' }] };
    const first = await stack.request<Job>('POST', '/v1/jobs', { body, headers });
    expect(first.status).toBe(202);
    const again = await stack.request<Job>('POST', '/v1/jobs', { body, headers });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(await stack.redis.smembers(stack.keys.uploadJobs(ready))).toEqual([first.body.id]);
    expect(await stack.redis.zscore(stack.keys.uploadsDue, ready)).toBeNull();
    // Attached, the upload cannot be deleted from under the job.
    const del = await fetch(`${stack.apiUrl}/v1/uploads/${ready}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKENS.acme}`, 'tus-resumable': '1.0.0' },
    });
    expect(del.status).toBe(409);
  });
});
