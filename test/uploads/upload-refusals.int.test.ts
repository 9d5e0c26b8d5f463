import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type UploadView } from '@batchscribe/shared';
import { Stack, TOKENS, type HttpResult } from '../support/stack.js';
import { runTus } from '../support/tus-client.js';
import { blobsUnder } from '../support/uploads.js';

const MAX_BYTES = 8 * 1024 * 1024;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const TUS = { 'tus-resumable': '1.0.0' };

function problemType(res: HttpResult): string {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return String((res.body as { type: string }).type)
    .split('/')
    .pop()!;
}

describe('upload requests refused, each with a problem and nothing stored', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ worker: false, apiEnv: { UPLOAD_MAX_BYTES: String(MAX_BYTES) } });
  });
  afterAll(async () => stack?.stop());

  /** HEAD answers have no body, which stack.request would parse. */
  const head = (path: string, token: string | null = TOKENS.acme) =>
    fetch(stack.apiUrl + path, { method: 'HEAD', headers: { ...TUS, ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  const create = (headers: Record<string, string>, token?: string | null) =>
    stack.request('POST', '/v1/uploads', { headers, ...(token !== undefined ? { token } : {}) });

  async function nothingStored(): Promise<void> {
    // BullMQ's queue meta keys are there from the start; no key of an upload may be.
    expect((await stack.keysUnderPrefix()).filter((k) => !k.endsWith(':meta'))).toEqual([]);
    const left: string[] = [];
    for await (const e of stack.blobs.list(`${stack.prefix}/`)) left.push(e.key);
    expect(left).toEqual([]);
  }

  it.each([
    ['notes.txt', 'a text file'],
    ['recording', 'no extension'],
    ['archive.zip', 'an archive'],
    ['movie.mp4.exe', 'a media name with another extension'],
  ])('when the filename is %s (%s), then 415 and nothing is stored', async (filename) => {
    const res = await create({ ...TUS, 'upload-length': '1000', 'upload-metadata': `filename ${b64(filename)}` });
    expect(res.status).toBe(415);
    expect(problemType(res)).toBe('unsupported-media-type');
    await nothingStored();
  });

  it('when the extension is a media one in another case, then the upload is created', async () => {
    const res = await create({ ...TUS, 'upload-length': '1000', 'upload-metadata': `filename ${b64('Call.WaV')}` });
    expect(res.status).toBe(201);
    await stack.request('DELETE', res.headers.get('location')!, { headers: TUS });
  });

  it('when Upload-Length is over UPLOAD_MAX_BYTES, then 413 and nothing is stored', async () => {
    const res = await create({ ...TUS, 'upload-length': String(MAX_BYTES + 1), 'upload-metadata': `filename ${b64('big.wav')}` });
    expect(res.status).toBe(413);
    expect(problemType(res)).toBe('payload-too-large');
    expect((res.body as { detail: string }).detail).toContain(String(MAX_BYTES));
    await nothingStored();
  });

  it.each([
    ['no Upload-Metadata', {}],
    ['metadata without filename', { 'upload-metadata': `title ${b64('x')}` }],
    ['an empty filename', { 'upload-metadata': 'filename' }],
  ])('when the creation has %s, then 422 naming Upload-Metadata.filename', async (_what, headers) => {
    const res = await create({ ...TUS, 'upload-length': '1000', ...headers });
    expect(res.status).toBe(422);
    expect(problemType(res)).toBe('validation-error');
    expect((res.body as { errors: Array<{ path: string }> }).errors).toEqual([
      expect.objectContaining({ path: 'Upload-Metadata.filename' }),
    ]);
    await nothingStored();
  });

  it.each([
    ['no Upload-Length', { 'upload-metadata': `filename ${b64('a.wav')}` }],
    ['a deferred length', { 'upload-defer-length': '1', 'upload-metadata': `filename ${b64('a.wav')}` }],
    ['Upload-Length that is not a number', { 'upload-length': '12abc', 'upload-metadata': `filename ${b64('a.wav')}` }],
    ['Upload-Metadata that is not base64 pairs', { 'upload-length': '10', 'upload-metadata': 'filename a b c' }],
  ])('when the creation has %s, then 400', async (_what, headers) => {
    const res = await create({ ...TUS, ...headers });
    expect(res.status).toBe(400);
    expect(problemType(res)).toBe('malformed-request');
    await nothingStored();
  });

  it.each([
    ['no Tus-Resumable', {}],
    ['Tus-Resumable 0.2.2', { 'tus-resumable': '0.2.2' }],
  ])('when a creation has %s, then 412 with Tus-Version', async (_what, headers) => {
    const res = await create({ ...headers, 'upload-length': '10', 'upload-metadata': `filename ${b64('a.wav')}` });
    expect(res.status).toBe(412);
    expect(problemType(res)).toBe('precondition-failed');
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    await nothingStored();
  });

  it('when a client asks OPTIONS (tus discovery), then it learns the version, the extensions and UPLOAD_MAX_BYTES', async () => {
    const res = await stack.request('OPTIONS', '/v1/uploads');
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-max-size')).toBe(String(MAX_BYTES));
    expect(res.headers.get('tus-extension')?.split(',')).toEqual(
      expect.arrayContaining(['creation', 'creation-with-upload', 'termination', 'expiration']),
    );
  });

  it('when a request has no bearer token or a wrong one, then 401 on every method', async () => {
    for (const token of [null, 'not-a-token']) {
      for (const method of ['POST', 'HEAD', 'PATCH', 'DELETE', 'GET']) {
        const path = method === 'POST' ? '/v1/uploads' : '/v1/uploads/upl_01jz0000000000000000000000';
        if (method === 'HEAD') {
          expect((await head(path, token)).status).toBe(401);
          continue;
        }
        const res = await stack.request(method, path, { token, headers: { ...TUS, 'upload-length': '10' } });
        expect(res.status).toBe(401);
        expect(problemType(res)).toBe('unauthorized');
      }
    }
    await nothingStored();
  });

  describe('on an upload that exists', () => {
    let url: string;
    let path: string;
    let id: string;
    const file = randomBytes(100_000);
    beforeAll(async () => {
      const run = await runTus({ apiUrl: stack.apiUrl, token: TOKENS.acme, bytes: file, filename: 'm.ogg', abortAfter: 1 });
      url = run.url;
      path = new URL(url).pathname;
      id = path.split('/').pop()!;
    });
    const patch = (offset: number, body: Buffer, headers: Record<string, string> = {}, token?: string) =>
      fetch(stack.apiUrl + path, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${token ?? TOKENS.acme}`,
          ...TUS,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
          ...headers,
        },
        body,
      });
    const offsetNow = async () => Number((await head(path)).headers.get('upload-offset'));

    it('when a PATCH names the wrong Upload-Offset, then 409 and the upload is unchanged', async () => {
      const before = await offsetNow();
      const res = await patch(before + 10, file.subarray(before + 10, before + 20));
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await offsetNow()).toBe(before);
    });

    it('when a PATCH has another Content-Type, then 415', async () => {
      const before = await offsetNow();
      const res = await patch(before, file.subarray(before, before + 10), { 'content-type': 'application/octet-stream' });
      expect(res.status).toBe(415);
      expect(await offsetNow()).toBe(before);
    });

    it('when a PATCH has no Tus-Resumable, then 412', async () => {
      const before = await offsetNow();
      const res = await fetch(stack.apiUrl + path, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${TOKENS.acme}`,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(before),
        },
        body: file.subarray(before, before + 10),
      });
      expect(res.status).toBe(412);
      expect(await offsetNow()).toBe(before);
    });

    it('when another tenant names it, then 404 on every method and nothing changes', async () => {
      const before = await offsetNow();
      expect((await head(path, TOKENS.globex)).status).toBe(404);
      for (const method of ['DELETE', 'GET']) {
        const res = await stack.request(method, path, { token: TOKENS.globex, headers: TUS });
        expect(res.status).toBe(404);
        expect(problemType(res)).toBe('not-found');
      }
      const res = await patch(before, file.subarray(before), {}, TOKENS.globex);
      expect(res.status).toBe(404);
      expect(await offsetNow()).toBe(before);
      expect((await stack.request<UploadView>('GET', path)).body.status).toBe('uploading');
    });

    it('when an id that is not an upload id is named, then 404', async () => {
      for (const bad of ['upl_x', 'job_01jz0000000000000000000000', '..%2F..%2Fetc']) {
        expect((await stack.request('GET', `/v1/uploads/${bad}`)).status).toBe(404);
        expect((await head(`/v1/uploads/${bad}`)).status).toBe(404);
      }
    });

    it('when it is deleted (termination), then GET, HEAD and PATCH are 404 and its bytes and record are gone', async () => {
      const del = await stack.request('DELETE', path, { headers: TUS });
      expect(del.status).toBe(204);
      expect((await stack.request('GET', path)).status).toBe(404);
      expect((await head(path)).status).toBe(404);
      expect((await patch(0, file)).status).toBe(404);
      expect((await stack.request('DELETE', path, { headers: TUS })).status).toBe(404);
      expect(await blobsUnder(stack, id)).toEqual([]);
      await nothingStored();
    });
  });
});
