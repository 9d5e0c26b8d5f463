import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { uploadMediaKey, type UploadView } from '@batchscribe/shared';
import { Stack, TOKENS } from '../support/stack.js';
import { runTus } from '../support/tus-client.js';
import { blobsUnder, sweepUploads } from '../support/uploads.js';
import { waitFor } from '../support/wait-for.js';

const MiB = 1024 * 1024;
const MAX_BYTES = 64 * MiB;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function idOf(url: string): string {
  return url.split('/').pop()!;
}

describe.each(['fs', 's3'] as const)('uploads through the real tus server and client, on the %s store', (blob) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ worker: false, blob, apiEnv: { UPLOAD_MAX_BYTES: String(MAX_BYTES) } });
  });
  afterAll(async () => stack?.stop());

  const head = (url: string, token: string = TOKENS.acme) =>
    fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' } });

  it('when an upload is interrupted at several offsets and resumed from its HEAD offset, then the stored bytes are exactly the file and sha256 is theirs', async () => {
    // Over two 8 MiB S3 parts, so resumes cross part boundaries and incomplete parts.
    const file = randomBytes(21 * MiB + 12_345);
    const cuts = [1 * MiB + 7, 9 * MiB + 333, 17 * MiB + 1];
    let url: string | undefined;
    let lastOffset = 0;
    for (const cut of cuts) {
      const run = await runTus({
        apiUrl: stack.apiUrl,
        token: TOKENS.acme,
        bytes: file,
        filename: 'Board Meeting.M4A',
        abortAfter: cut,
        // Slow enough that the abort lands well before the end even on a loaded machine.
        bytesPerSecond: 12_000_000,
        ...(url ? { uploadUrl: url } : {}),
      });
      expect(run.outcome).toBe('aborted');
      url = run.url;
      // The interrupted PATCH drains into the store; HEAD waits for its lock, then says how far it got.
      const res = await head(url);
      expect(res.status).toBe(200);
      const offset = Number(res.headers.get('upload-offset'));
      expect(offset).toBeGreaterThanOrEqual(lastOffset);
      expect(offset).toBeLessThanOrEqual(run.sent);
      expect(Number(res.headers.get('upload-length'))).toBe(file.length);
      lastOffset = offset;
      const view = await stack.request<UploadView>('GET', `/v1/uploads/${idOf(url)}`);
      expect(view.body).toMatchObject({ status: 'uploading', received: offset, sha256: null, size: file.length });
    }
    const done = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'Board Meeting.M4A', uploadUrl: url! });
    expect(done.outcome).toBe('done');
    const id = idOf(done.url);
    const view = await stack.request<UploadView>('GET', `/v1/uploads/${id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      id,
      object: 'upload',
      filename: 'Board Meeting.M4A',
      size: file.length,
      received: file.length,
      status: 'ready',
      sha256: sha256(file),
    });
    expect(Date.parse(view.body.expires_at!) - Date.parse(view.body.created_at)).toBe(86_400_000);
    const stored = await stack.blobs.get(uploadMediaKey(stack.prefix, id));
    expect(stored).not.toBeNull();
    expect((await readAll(stored!)).equals(file)).toBe(true);
  });

  it('when the body comes with the creation (creation-with-upload), then the upload is ready from that one request', async () => {
    const file = randomBytes(300_000);
    const res = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKENS.acme}`,
        'tus-resumable': '1.0.0',
        'upload-length': String(file.length),
        'upload-metadata': `filename ${b64('a.wav')}`,
        'content-type': 'application/offset+octet-stream',
      },
      body: file,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe(String(file.length));
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/v1\/uploads\/upl_[0-9a-z]{26}$/);
    const view = await stack.request<UploadView>('GET', location);
    expect(view.body).toMatchObject({ status: 'ready', received: file.length, sha256: sha256(file) });
  });

  it('when an upload goes in many PATCHes of one chunk each, then the hash carried across them is the file’s', async () => {
    const file = randomBytes(5 * MiB + 17);
    const run = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'x.mp3', chunkSize: 1 * MiB });
    const view = await stack.request<UploadView>('GET', `/v1/uploads/${idOf(run.url)}`);
    expect(view.body).toMatchObject({ status: 'ready', sha256: sha256(file), received: file.length });
  });

  it('when the saved hash state is lost between two PATCHes (an api died after the store’s write), then the file is hashed from the store at the end', async () => {
    const file = randomBytes(3 * MiB + 5);
    const first = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'lost.flac', abortAfter: MiB });
    expect((await head(first.url)).status).toBe(200);
    await stack.redis.hdel(stack.keys.upload(idOf(first.url)), 'hash_state');
    const done = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'lost.flac', uploadUrl: first.url });
    const view = await stack.request<UploadView>('GET', `/v1/uploads/${idOf(done.url)}`);
    expect(view.body).toMatchObject({ status: 'ready', sha256: sha256(file) });
  });

  it('when an api died after the store took an upload’s last byte and before it recorded the upload ready, then the next HEAD finishes it: ready with its sha256, and a job can name it', async () => {
    const file = randomBytes(3 * MiB + 5);
    const done = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'cut.wav', chunkSize: MiB });
    const id = idOf(done.url);
    // The record as the last PATCH found it, which is what that api left: every byte is in the
    // store, the record still says uploading (a real kill -9 in that window needs a file whose
    // hash from the store takes long enough to aim at; the state it leaves is this one).
    await stack.redis.hset(stack.keys.upload(id), 'state', 'uploading', 'received', String(3 * MiB), 'sha256', '');
    const stuck = await stack.request('POST', '/v1/jobs', { body: JSON.stringify({ files: [{ upload_id: id }] }) });
    expect(stuck.status).toBe(422);

    // What a resuming client does: HEAD says every byte is there, so it sends nothing more.
    const again = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'cut.wav', uploadUrl: done.url });
    expect(again.outcome).toBe('done');
    const view = await stack.request<UploadView>('GET', `/v1/uploads/${id}`);
    expect(view.body).toMatchObject({ status: 'ready', received: file.length, sha256: sha256(file) });
    const job = await stack.request('POST', '/v1/jobs', { body: JSON.stringify({ files: [{ upload_id: id }] }) });
    expect(job.status).toBe(202);
  });

  it('when an upload no job uses is past UPLOAD_TTL_S, then the sweeper deletes its bytes and its record', async () => {
    const file = randomBytes(2 * MiB);
    const ready = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'old.wav' });
    const half = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'half.wav', abortAfter: MiB });
    const ids = [idOf(ready.url), idOf(half.url)];
    await waitFor(async () => ((await head(half.url)).status === 200 ? true : undefined));
    // Not yet due: nothing goes.
    expect(await sweepUploads(stack, Date.now())).toEqual({ swept: true, deleted: 0 });
    await new Promise((r) => setTimeout(r, 5)); // the 1 ms sweep lock lapses
    // The earlier tests' uploads are past it too.
    const swept = await sweepUploads(stack, Date.now() + 86_400_000 + 1_000);
    expect(swept.swept).toBe(true);
    expect(swept.deleted).toBeGreaterThanOrEqual(2);
    for (const id of ids) {
      expect((await stack.request('GET', `/v1/uploads/${id}`)).status).toBe(404);
      expect(await stack.redis.exists(stack.keys.upload(id), stack.keys.uploadJobs(id))).toBe(0);
      expect(await blobsUnder(stack, id)).toEqual([]);
    }
    expect(await stack.redis.zcard(stack.keys.uploadsDue)).toBe(0);
    expect(await stack.redis.zscore(stack.keys.uploadsDue, ids[0]!)).toBeNull();
  });
});
