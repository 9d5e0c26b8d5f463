import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MockAgent } from 'undici';
import { FoxapiClient, isFoxapiError, type FoxapiError } from '../src/foxapi/index.js';
import { multipartFile } from '../src/foxapi/multipart.js';

// Wire details of the file upload pinned with MockAgent; the round trip through the simulator
// over real HTTP is test/integration/foxapi-upload.int.test.ts.

const BASE = 'https://api.foxapi.test';
const KEY = 'sk-secret-key-123';
const ANSWER = { id: 'file-1', filename: 'Réunion 1.m4a', url: 'https://cdn.foxapi.cc/uploads/file-1/r.m4a', size: 5, created: 1757165031 };

interface SentRequest {
  path: string;
  method: string;
  headers?: Record<string, string>;
}

/** The parts of a multipart body, split at its boundary (the simulator's busboy reads it for real in the integration test). */
function partsOf(contentType: string, whole: Buffer): Array<{ headers: string; body: Buffer }> {
  const boundary = Buffer.from(`--${contentType.split('boundary=')[1]!}`);
  const parts: Array<{ headers: string; body: Buffer }> = [];
  let at = whole.indexOf(boundary);
  for (;;) {
    const next = whole.indexOf(boundary, at + boundary.length);
    if (next < 0) break;
    const part = whole.subarray(at + boundary.length + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    parts.push({ headers: part.subarray(0, split).toString(), body: part.subarray(split + 4) });
    at = next;
  }
  expect(whole.subarray(at).toString()).toBe(`${boundary.toString()}--\r\n`);
  return parts;
}

describe('the multipart body of an upload', () => {
  it('when a file is encoded, then its length is exact and its parts hold the fields, the name and the bytes as they were', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const form = multipartFile({
      fields: { file_name: 'Réunion "1".m4a', auto_cleanup: 'false' },
      fileField: 'file',
      filename: 'Réunion "1".m4a',
      file: Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)]),
      size: bytes.length,
    });
    const chunks: Buffer[] = [];
    for await (const c of form.body) chunks.push(c);
    const whole = Buffer.concat(chunks);
    expect(whole.length).toBe(form.length);
    const [name, cleanup, file] = partsOf(form.contentType, whole);
    expect(name!.headers).toBe('Content-Disposition: form-data; name="file_name"');
    expect(name!.body.toString()).toBe('Réunion "1".m4a');
    expect(cleanup!.body.toString()).toBe('false');
    expect(file!.headers).toBe(
      `Content-Disposition: form-data; name="file"; filename="R_union %221%22.m4a"; filename*=UTF-8''${encodeURIComponent('Réunion "1".m4a')}\r\nContent-Type: application/octet-stream`,
    );
    expect(file!.body.equals(bytes)).toBe(true);
  });

  it('when the file is shorter or longer than its declared size, then the body fails instead of sending a wrong length', async () => {
    for (const actual of [9, 11]) {
      const form = multipartFile({
        fields: {},
        fileField: 'file',
        filename: 'a.wav',
        file: Readable.from([Buffer.alloc(actual)]),
        size: 10,
      });
      await expect(
        (async () => {
          for await (const _ of form.body) void _;
        })(),
      ).rejects.toThrow(/declared/);
    }
  });
});

describe('uploadFile', () => {
  let agent: MockAgent;
  let client: FoxapiClient;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    client = new FoxapiClient({ baseUrl: BASE, apiKey: KEY, timeoutMs: 2_000, dispatcher: agent });
  });
  afterEach(async () => {
    await client.close();
    await agent.close();
  });

  it('when a file is sent, then it POSTs multipart/form-data with a Content-Length to /v1/files/upload/stream with the key, and returns the answer', async () => {
    const calls: SentRequest[] = [];
    agent
      .get(BASE)
      .intercept({ path: '/v1/files/upload/stream', method: 'POST' })
      .reply((opts) => {
        calls.push(opts as SentRequest);
        return { statusCode: 200, data: JSON.stringify(ANSWER), responseOptions: { headers: { 'content-type': 'application/json' } } };
      });
    const file = await client.uploadFile(Readable.from([Buffer.from('hello')]), 'Réunion 1.m4a', 5, { autoCleanup: false });
    expect(file).toEqual(ANSWER);
    const sent = calls[0]!;
    const header = (name: string) => Object.entries(sent.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
    expect(header('authorization')).toBe(`Bearer ${KEY}`);
    expect(header('content-type')).toMatch(/^multipart\/form-data; boundary=-+batchscribe[0-9a-f]{24}$/);
    const boundary = header('content-type')!.split('boundary=')[1]!;
    // head (two fields + file part header) + 5 bytes + closing boundary: the length is announced, not chunked.
    expect(Number(header('content-length'))).toBeGreaterThan(5 + boundary.length * 4);
  });

  it('when foxapi answers without a url, then it is a protocol error', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/files/upload/stream', method: 'POST' })
      .reply(200, { id: 'file-1', filename: 'a.wav', size: 5, created: 1 }, { headers: { 'content-type': 'application/json' } });
    const err = await client.uploadFile(Readable.from([Buffer.from('hello')]), 'a.wav', 5).catch((e: unknown) => e);
    expect(isFoxapiError(err) && (err as FoxapiError).kind).toBe('protocol');
  });

  it('when foxapi refuses the upload (403 storage full), then the error says so with its status', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/files/upload/stream', method: 'POST' })
      .reply(403, { error: { message: 'Storage is full.', type: 'storage_full' } }, { headers: { 'content-type': 'application/json' } });
    const err = (await client.uploadFile(Readable.from([Buffer.from('hello')]), 'a.wav', 5).catch((e: unknown) => e)) as FoxapiError;
    expect(isFoxapiError(err)).toBe(true);
    expect(err.status).toBe(403);
  });
});
