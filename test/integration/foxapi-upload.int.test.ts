import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createFoxapiSimulator, type FoxapiSimulator } from '@batchscribe/foxapi-sim';
import { FoxapiClient, type FoxapiError } from '@batchscribe/shared';

/** The foxapi client's file upload against the simulator over real HTTP (its multipart parser, its answer, its limits). */
describe('uploadFile against the simulator', () => {
  let sim: FoxapiSimulator;
  let base: string;
  let client: FoxapiClient;
  beforeAll(async () => {
    sim = createFoxapiSimulator({ uploadCapacityBytes: 12 * 1024 * 1024 });
    base = (await sim.listen(0)).url;
    client = new FoxapiClient({ baseUrl: base, apiKey: 'sk-sim', timeoutMs: 5_000 });
  });
  afterAll(async () => {
    await client.close();
    await sim.close();
  });

  /** A file as a stream of 64 KiB chunks, as a blob store hands it out. */
  const streamOf = (bytes: Buffer) =>
    Readable.from(
      (function* () {
        for (let at = 0; at < bytes.length; at += 65_536) yield bytes.subarray(at, at + 65_536);
      })(),
    );

  it('when a file streams up, then foxapi answers where it keeps it, and that URL serves the same bytes', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 3);
    const file = await client.uploadFile(streamOf(bytes), 'Réunion du lundi.m4a', bytes.length);
    expect(file).toMatchObject({ filename: 'Réunion du lundi.m4a', size: bytes.length });
    expect(file.id).not.toBe('');
    expect(typeof file.created).toBe('number');
    const res = await fetch(file.url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('when the key is wrong, then it is an auth error', async () => {
    const bad = new FoxapiClient({ baseUrl: base, apiKey: 'sk-wrong', timeoutMs: 5_000 });
    const err = (await bad.uploadFile(streamOf(Buffer.alloc(10)), 'a.wav', 10).catch((e: unknown) => e)) as FoxapiError;
    await bad.close();
    expect(err.kind).toBe('auth');
  });

  it('when the storage is full and auto_cleanup is false, then 403 and nothing is evicted', async () => {
    const first = await client.uploadFile(streamOf(randomBytes(6 * 1024 * 1024)), 'one.wav', 6 * 1024 * 1024);
    const err = (await client
      .uploadFile(streamOf(randomBytes(6 * 1024 * 1024)), 'two.wav', 6 * 1024 * 1024, { autoCleanup: false })
      .catch((e: unknown) => e)) as FoxapiError;
    expect(err.status).toBe(403);
    expect((await fetch(first.url)).status).toBe(200);
  });
});
