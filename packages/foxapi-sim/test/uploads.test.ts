import { afterEach, describe, expect, it } from '@jest/globals';
import { startMediaServer, type MediaServer } from './media-server.js';
import { API_KEY, json, startSim, type PolledTask, type RunningSim } from './sim-fixture.js';

interface UploadAnswer {
  id: string;
  filename: string;
  url: string;
  size: number;
  created: number;
}

interface ErrorBody {
  error: { message: string; type: string };
}

function multipart(bytes: Buffer, filename: string, fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([bytes], { type: 'audio/wav' }), filename);
  return form;
}

describe('file uploads', () => {
  let s: RunningSim;
  let media: MediaServer | undefined;
  afterEach(async () => {
    await s.close();
    await media?.close();
    media = undefined;
  });

  const streamUpload = (form: FormData): Promise<Response> => s.api('/v1/files/upload/stream', { method: 'POST', body: form });
  const jsonUpload = (path: string, body: unknown): Promise<Response> =>
    s.api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('when a file is uploaded as multipart, then it answers {id, filename, url, size, created} and the url serves the bytes', async () => {
    s = await startSim();
    const bytes = Buffer.from(Array.from({ length: 5_000 }, (_, i) => i % 251));

    const res = await streamUpload(multipart(bytes, 'standup.wav'));
    const answer = await json<UploadAnswer>(res);

    expect(res.status).toBe(200);
    expect(Object.keys(answer).sort()).toEqual(['created', 'filename', 'id', 'size', 'url']);
    expect(answer).toMatchObject({ filename: 'standup.wav', size: 5_000, created: Math.floor(s.clock.now / 1000) });
    expect(answer.url).toBe(`${s.url}/uploads/${answer.id}/standup.wav`);
    const served = await fetch(answer.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^audio\/(x-)?wav/);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const start = await fetch(answer.url, { headers: { range: 'bytes=0-1023' } });
    expect(start.status).toBe(206);
    expect(Buffer.from(await start.arrayBuffer()).equals(bytes.subarray(0, 1024))).toBe(true);
    expect(s.sim.stats()).toMatchObject({ uploads: 1, uploadStorageBytes: 5_000 });
  });

  it('when file_name is sent, then it names the upload, whichever part comes first', async () => {
    s = await startSim();
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('abc')]), 'raw.bin');
    form.append('file_name', 'meeting 1.mp3');

    const answer = await json<UploadAnswer>(await streamUpload(form));

    expect(answer.filename).toBe('meeting 1.mp3');
    expect(answer.url.endsWith('/meeting%201.mp3')).toBe(true);
    expect((await fetch(answer.url)).status).toBe(200);
  });

  it('when a file of several megabytes is streamed, then every byte is stored', async () => {
    s = await startSim();
    const bytes = Buffer.alloc(6 * 1024 * 1024, 0x5a);

    const answer = await json<UploadAnswer>(await streamUpload(multipart(bytes, 'long.flac')));

    expect(answer.size).toBe(bytes.length);
    expect(Number((await fetch(answer.url, { method: 'HEAD' })).headers.get('content-length'))).toBe(bytes.length);
  });

  it('when a file is uploaded as base64, plain or as a data URL, then it is stored decoded', async () => {
    s = await startSim();
    const bytes = Buffer.from('RIFF fake wave bytes');

    const plain = await json<UploadAnswer>(
      await jsonUpload('/v1/files/upload/base64', { file_data: bytes.toString('base64'), file_name: 'a.wav' }),
    );
    const dataUrl = await json<UploadAnswer>(
      await jsonUpload('/v1/files/upload/base64', { file_data: `data:audio/wav;base64,${bytes.toString('base64')}`, file_name: 'b.wav' }),
    );

    for (const answer of [plain, dataUrl]) {
      expect(answer.size).toBe(bytes.length);
      expect(Buffer.from(await (await fetch(answer.url)).arrayBuffer()).equals(bytes)).toBe(true);
    }
    expect(plain.id).not.toBe(dataUrl.id);
  });

  it('when a URL is uploaded, then the simulator fetches it and stores its bytes; an unreachable URL is a 422', async () => {
    s = await startSim();
    const bytes = Buffer.from('remote media');
    media = await startMediaServer(bytes);

    const ok = await jsonUpload('/v1/files/upload/url', { url: `${media.url}/ok/remote.ogg` });
    const missing = await jsonUpload('/v1/files/upload/url', { url: `${media.url}/missing/gone.ogg` });
    const answer = await json<UploadAnswer>(ok);

    expect(ok.status).toBe(200);
    expect(answer).toMatchObject({ filename: 'remote.ogg', size: bytes.length });
    expect(Buffer.from(await (await fetch(answer.url)).arrayBuffer()).equals(bytes)).toBe(true);
    expect(missing.status).toBe(422);
    expect((await json<ErrorBody>(missing)).error.message).toMatch(/^url: .*404/);
    expect(s.sim.stats().uploads).toBe(1);
  });

  it('when the store is full and auto_cleanup is false, then it answers 403 and keeps what it had', async () => {
    s = await startSim({ uploadCapacityBytes: 1_000 });
    const first = await json<UploadAnswer>(await streamUpload(multipart(Buffer.alloc(600), 'a.wav')));

    const refused = await streamUpload(multipart(Buffer.alloc(600), 'b.wav', { auto_cleanup: 'false' }));
    const refusedBase64 = await jsonUpload('/v1/files/upload/base64', {
      file_data: Buffer.alloc(600).toString('base64'),
      auto_cleanup: false,
    });

    expect([refused.status, refusedBase64.status]).toEqual([403, 403]);
    expect((await json<ErrorBody>(refused)).error.type).toBe('storage_full');
    expect((await fetch(first.url)).status).toBe(200);
    expect(s.sim.stats()).toMatchObject({ uploads: 1, uploadStorageBytes: 600 });
  });

  it('when the store is full and auto_cleanup is left at its default, then the earliest uploads are evicted', async () => {
    s = await startSim({ uploadCapacityBytes: 1_000 });
    const first = await json<UploadAnswer>(await streamUpload(multipart(Buffer.alloc(400), 'a.wav')));
    const second = await json<UploadAnswer>(await streamUpload(multipart(Buffer.alloc(400), 'b.wav')));

    const third = await streamUpload(multipart(Buffer.alloc(400), 'c.wav'));

    expect(third.status).toBe(200);
    expect((await fetch(first.url)).status).toBe(404);
    expect((await fetch(second.url)).status).toBe(200);
    expect(s.sim.stats().uploadStorageBytes).toBe(800);
  });

  it('when a file is larger than the whole store, then it is refused even with auto_cleanup', async () => {
    s = await startSim({ uploadCapacityBytes: 1_000 });
    const kept = await json<UploadAnswer>(await streamUpload(multipart(Buffer.alloc(100), 'a.wav')));

    const res = await streamUpload(multipart(Buffer.alloc(5_000), 'huge.wav', { auto_cleanup: 'true' }));

    expect(res.status).toBe(403);
    expect((await fetch(kept.url)).status).toBe(200);
  });

  it('when 72 hours pass on the simulator clock, then the upload is gone and its bytes are freed', async () => {
    s = await startSim();
    const answer = await json<UploadAnswer>(await streamUpload(multipart(Buffer.alloc(300), 'a.wav')));

    s.clock.advance(72 * 3_600_000 - 1);
    const before = (await fetch(answer.url)).status;
    s.clock.advance(1);
    const after = (await fetch(answer.url)).status;

    expect([before, after]).toEqual([200, 404]);
    expect(s.sim.stats().uploadStorageBytes).toBe(0);
  });

  it('when an uploaded url is submitted, then the task transcribes it under that url', async () => {
    s = await startSim({ taskDurationMs: 0 });
    const answer = await json<UploadAnswer>(await streamUpload(multipart(Buffer.alloc(300), 'call.wav')));

    const task = await json<PolledTask>(await s.poll(await s.submitTask([answer.url])));

    expect(task.results).toEqual([expect.objectContaining({ file_url: answer.url, subtask_status: 'SUCCEEDED' })]);
  });

  it.each([
    ['no API key', () => fetch(`${s.url}/v1/files/upload/stream`, { method: 'POST', body: multipart(Buffer.from('x'), 'a.wav') }), 401],
    ['a JSON body on the multipart route', () => jsonUpload('/v1/files/upload/stream', { file: 'x' }), 400],
    [
      'a multipart body that ends mid-form',
      () =>
        s.api('/v1/files/upload/stream', {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
          body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\npartial bytes',
        }),
      400,
    ],
    ['a multipart body without a file part', () => streamUpload(formWith({ file_name: 'a.wav' })), 422],
    ['auto_cleanup that is not a boolean', () => streamUpload(multipart(Buffer.from('x'), 'a.wav', { auto_cleanup: 'maybe' })), 422],
    ['base64 without file_data', () => jsonUpload('/v1/files/upload/base64', { file_name: 'a.wav' }), 422],
    ['file_data that is not base64', () => jsonUpload('/v1/files/upload/base64', { file_data: 'not base64!' }), 422],
    ['an upload by URL without a URL', () => jsonUpload('/v1/files/upload/url', { url: 'ftp://x/a.wav' }), 422],
  ])('when the request has %s, then it is refused and nothing is stored', async (_case, send, status) => {
    s = await startSim();

    const res = await send();

    expect(res.status).toBe(status);
    expect((await json<ErrorBody>(res)).error.type).toEqual(expect.any(String));
    expect(s.sim.stats()).toMatchObject({ uploads: 0, uploadStorageBytes: 0 });
  });

  it('when the upload id or name does not match, then the file route answers 404 without a key', async () => {
    s = await startSim();
    const answer = await json<UploadAnswer>(await streamUpload(multipart(Buffer.from('x'), 'a.wav')));

    const wrongName = await fetch(answer.url.replace('/a.wav', '/b.wav'));
    const wrongId = await fetch(`${s.url}/uploads/file-nope/a.wav`);
    const withKey = await fetch(answer.url, { headers: { authorization: `Bearer ${API_KEY}` } });

    expect([wrongName.status, wrongId.status, withKey.status]).toEqual([404, 404, 200]);
  });
});

function formWith(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}
