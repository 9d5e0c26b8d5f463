import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { blobEnvFor, removeBlobEnv } from '../../../test/support/blob-env.js';
import type { BlobStore } from '../src/blob/blob-store.js';
import { blobStoreEnvSchema as schema, type BlobStoreEnv } from '../src/blob/config.js';
import { createBlobStore } from '../src/blob/create-blob-store.js';
import { parseEnv } from '../src/config/parse-env.js';

const MiB = 1024 * 1024;

interface Opened {
  store: BlobStore;
  env: BlobStoreEnv;
}

const opened: Opened[] = [];
afterEach(async () => {
  for (const { store, env } of opened.splice(0)) {
    await store.deleteByPrefix('');
    await store.close();
    removeBlobEnv({ BLOB_STORE: env.BLOB_STORE, DATA_DIR: env.DATA_DIR });
  }
});

/** A fresh, empty store: its own DATA_DIR, or its own S3_PREFIX in the test bucket. */
function openStore(kind: 'fs' | 's3'): Opened {
  const env = parseEnv(schema, blobEnvFor(kind));
  const o = { store: createBlobStore(env), env };
  opened.push(o);
  return o;
}

async function bytesOf(stream: Readable | null): Promise<Buffer> {
  if (!stream) throw new Error('expected an object, got null');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Of(stream: Readable | null): Promise<string> {
  if (!stream) throw new Error('expected an object, got null');
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function keysOf(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of store.list(prefix)) keys.push(e.key);
  return keys.sort();
}

/**
 * `total` bytes in `chunk`-sized pieces made on demand (each tagged with its index, so a lost
 * or reordered piece changes the hash); `failAfter` makes the stream error once that many went;
 * `onEvery4MiB` runs each time another 4 MiB has been read from it; `slow` spreads it over time.
 */
function generated(
  total: number,
  opts: { chunk?: number; failAfter?: number; seed?: number; onEvery4MiB?: () => void; slow?: boolean } = {},
) {
  const chunk = opts.chunk ?? 64 * 1024;
  const hash = createHash('sha256');
  let sent = 0;
  let i = 0;
  const stream = new Readable({
    read() {
      if (opts.failAfter !== undefined && sent >= opts.failAfter) {
        this.destroy(new Error('source failed mid-way'));
        return;
      }
      if (sent >= total) {
        this.push(null);
        return;
      }
      const piece = Buffer.alloc(Math.min(chunk, total - sent), (i + (opts.seed ?? 0)) & 0xff);
      piece.writeUInt32BE(i, 0);
      hash.update(piece);
      if (opts.onEvery4MiB && Math.floor((sent + piece.length) / (4 * MiB)) > Math.floor(sent / (4 * MiB))) opts.onEvery4MiB();
      sent += piece.length;
      i += 1;
      if (opts.slow) setTimeout(() => this.push(piece), 1);
      else this.push(piece);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/**
 * Bytes of Buffers still referenced, after a full GC: parts already sent are garbage V8 may
 * keep a while, which would look like holding the object. Not RSS: the allocator keeps freed
 * memory, so RSS depends on what earlier tests allocated and can hide a buffered object.
 */
const liveBufferBytes: () => number = (() => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    return process.memoryUsage().arrayBuffers;
  };
})();

/** Files the fs adapter left under its root, temporaries included. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1));
}

describe.each(['fs', 's3'] as const)('%s blob store', (kind) => {
  it('when a Buffer is put, then get returns the same bytes and stat its size', async () => {
    const { store } = openStore(kind);
    const body = Buffer.from('{"text":"hello, wörld"}');
    await store.put('jobs/j1/tx/0.json', body, { contentType: 'application/json' });
    expect(await bytesOf(await store.get('jobs/j1/tx/0.json'))).toEqual(body);
    expect(await store.stat('jobs/j1/tx/0.json')).toEqual({ size: body.length });
  });

  it('when a stream of many chunks is put, then get returns every byte in order', async () => {
    const { store } = openStore(kind);
    const src = generated(300 * 1024, { chunk: 1000 });
    await store.put('jobs/j1/tx/1.br', src.stream);
    expect(await sha256Of(await store.get('jobs/j1/tx/1.br'))).toBe(src.digest());
    expect(await store.stat('jobs/j1/tx/1.br')).toEqual({ size: 300 * 1024 });
  });

  it('when an empty Buffer is put, then the object exists with size 0', async () => {
    const { store } = openStore(kind);
    await store.put('empty', Buffer.alloc(0));
    expect(await store.stat('empty')).toEqual({ size: 0 });
    expect(await bytesOf(await store.get('empty'))).toEqual(Buffer.alloc(0));
  });

  it('when a key was never put, then get and stat return null', async () => {
    const { store } = openStore(kind);
    await store.put('jobs/j1/tx/0.json', Buffer.from('x'));
    expect(await store.get('jobs/j1/tx/9.json')).toBeNull();
    expect(await store.stat('jobs/j1/tx/9.json')).toBeNull();
    expect(await store.get('nowhere/at/all')).toBeNull();
    // A "directory" of other objects is not an object either.
    expect(await store.get('jobs/j1')).toBeNull();
    expect(await store.stat('jobs/j1')).toBeNull();
  });

  it('when a key is put again with shorter content, then only the new content is read', async () => {
    const { store } = openStore(kind);
    await store.put('k', Buffer.from('the first, longer version'));
    await store.put('k', Buffer.from('second'));
    expect((await bytesOf(await store.get('k'))).toString()).toBe('second');
    expect(await store.stat('k')).toEqual({ size: 6 });
  });

  it('when an object is deleted, then it is gone, and deleting it again or a missing key is no error', async () => {
    const { store } = openStore(kind);
    await store.put('a/b', Buffer.from('1'));
    await store.put('a/c', Buffer.from('2'));
    await store.delete('a/b');
    expect(await store.get('a/b')).toBeNull();
    await expect(store.delete('a/b')).resolves.toBeUndefined();
    await expect(store.delete('never/was')).resolves.toBeUndefined();
    expect(await keysOf(store, '')).toEqual(['a/c']);
  });

  it('when objects are listed by prefix, then exactly those whose key starts with it come, with size and time', async () => {
    const { store } = openStore(kind);
    const before = Date.now() - 60_000;
    for (const key of ['jobs/a/tx/0', 'jobs/a/tx/1', 'jobs/a/meta', 'jobs/ab/tx/0', 'jobs/b/tx/0', 'other']) {
      await store.put(key, Buffer.from(key));
    }
    expect(await keysOf(store, 'jobs/a/')).toEqual(['jobs/a/meta', 'jobs/a/tx/0', 'jobs/a/tx/1']);
    expect(await keysOf(store, 'jobs/a')).toEqual(['jobs/a/meta', 'jobs/a/tx/0', 'jobs/a/tx/1', 'jobs/ab/tx/0']);
    expect(await keysOf(store, 'jobs/a/tx/1')).toEqual(['jobs/a/tx/1']);
    expect(await keysOf(store, 'missing/')).toEqual([]);
    expect(await keysOf(store, '')).toHaveLength(6);
    const entries: { key: string; size: number; lastModified: Date }[] = [];
    for await (const e of store.list('jobs/b/')) entries.push(e);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.size).toBe('jobs/b/tx/0'.length);
    expect(entries[0]!.lastModified.getTime()).toBeGreaterThan(before);
  });

  it('when a prefix is deleted, then only its objects go and the count says how many', async () => {
    const { store, env } = openStore(kind);
    for (const key of ['jobs/a/tx/0', 'jobs/a/tx/1', 'jobs/a/meta', 'jobs/ab/tx/0', 'jobs/b/tx/0']) {
      await store.put(key, Buffer.from(key));
    }
    expect(await store.deleteByPrefix('jobs/a/')).toBe(3);
    expect(await keysOf(store, '')).toEqual(['jobs/ab/tx/0', 'jobs/b/tx/0']);
    expect(await bytesOf(await store.get('jobs/ab/tx/0'))).toEqual(Buffer.from('jobs/ab/tx/0'));
    expect(await store.deleteByPrefix('jobs/a/')).toBe(0);
    if (env.BLOB_STORE === 'fs') expect(existsSync(join(env.DATA_DIR, 'jobs', 'a'))).toBe(false);
  });

  it('when children of a prefix are listed, then each next segment comes once, however deep its objects sit', async () => {
    const { store } = openStore(kind);
    for (const key of ['ns/jobs/a/tx/0.json.br', 'ns/jobs/a/raw/0.json.br', 'ns/jobs/b/tx/deep/1', 'ns/other/c/x', 'ns/jobs-x/d/y']) {
      await store.put(key, Buffer.from(key));
    }
    const children: string[] = [];
    for await (const child of store.listChildren('ns/jobs/')) children.push(child);
    expect(children.sort()).toEqual(['a', 'b']);
    const none: string[] = [];
    for await (const child of store.listChildren('ns/nothing/')) none.push(child);
    expect(none).toEqual([]);
    await expect(store.listChildren('ns/jo')[Symbol.asyncIterator]().next()).rejects.toThrow(/end with/);
  });

  it('when more than a thousand objects share a prefix, then list pages through all and deleteByPrefix removes all', async () => {
    const { store } = openStore(kind);
    const keys = Array.from({ length: 1100 }, (_, i) => `jobs/many/tx/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((key) => store.put(key, Buffer.from(key))));
    }
    await store.put('jobs/other/tx/0', Buffer.from('stays'));
    expect(await keysOf(store, 'jobs/many/')).toEqual(keys);
    expect(await store.deleteByPrefix('jobs/many/')).toBe(1100);
    expect(await keysOf(store, '')).toEqual(['jobs/other/tx/0']);
  });

  it('when a 64 MiB stream is put, then it is stored whole without being held in memory', async () => {
    const { store } = openStore(kind);
    const size = 64 * MiB;
    // Warm up first: the SDK loads much of itself on a first request, which is not the object's cost.
    await store.put('big/warm-up', generated(6 * MiB).stream);
    const before = liveBufferBytes();
    let peak = before;
    // Looked at as the source is read: an adapter that held what it read would hold it all by the end.
    const src = generated(size, { onEvery4MiB: () => (peak = Math.max(peak, liveBufferBytes())) });
    await store.put('big/media.bin', src.stream);
    // Streamed, what is held is the parts in flight (s3: up to three of 5 MiB), not the object.
    expect(peak - before).toBeLessThan(size / 2);
    expect(await store.stat('big/media.bin')).toEqual({ size });
    expect(await sha256Of(await store.get('big/media.bin'))).toBe(src.digest());
  });

  it.each([
    ['before the first part is full', 1 * MiB],
    ['after parts were uploaded', 12 * MiB],
  ])('when the source stream errors %s, then no object and no temporary is left', async (_, failAfter) => {
    const { store, env } = openStore(kind);
    await expect(store.put('jobs/j/tx/0', generated(20 * MiB, { failAfter }).stream)).rejects.toThrow('source failed mid-way');
    expect(await store.get('jobs/j/tx/0')).toBeNull();
    expect(await store.stat('jobs/j/tx/0')).toBeNull();
    expect(await keysOf(store, '')).toEqual([]);
    if (env.BLOB_STORE === 'fs') expect(filesUnder(env.DATA_DIR)).toEqual([]);
  });

  it('when an overwrite fails mid-way, then the previous version is still there whole', async () => {
    const { store, env } = openStore(kind);
    await store.put('k', Buffer.from('version 1'));
    await expect(store.put('k', generated(8 * MiB, { failAfter: 6 * MiB }).stream)).rejects.toThrow('source failed mid-way');
    expect((await bytesOf(await store.get('k'))).toString()).toBe('version 1');
    if (env.BLOB_STORE === 'fs') expect(filesUnder(env.DATA_DIR)).toEqual(['k']);
  });

  it('when a key is read while it is being overwritten, then each read sees the old version or the whole new one', async () => {
    const { store } = openStore(kind);
    const old = Buffer.from('the old version');
    await store.put('k', old);
    const next = generated(6 * MiB, { slow: true });
    let writing = true;
    const put = store.put('k', next.stream).finally(() => (writing = false));
    const seen = new Set<string>();
    while (writing) {
      const got = await bytesOf(await store.get('k'));
      seen.add(got.equals(old) ? 'old' : createHash('sha256').update(got).digest('hex'));
    }
    await put;
    seen.add(await sha256Of(await store.get('k')));
    expect(seen.has('old')).toBe(true);
    expect([...seen].filter((v) => v !== 'old')).toEqual([next.digest()]);
  });

  it('when the same key is put by several writers at once, then one complete version remains', async () => {
    const { store, env } = openStore(kind);
    const writers = Array.from({ length: 4 }, (_, seed) => generated(6 * MiB, { chunk: 16 * 1024, seed: seed + 1 }));
    await Promise.all(writers.map((w) => store.put('same/key', w.stream)));
    const digests = writers.map((w) => w.digest());
    expect(digests).toContain(await sha256Of(await store.get('same/key')));
    expect(new Set(digests).size).toBe(4);
    expect(await keysOf(store, '')).toEqual(['same/key']);
    if (env.BLOB_STORE === 'fs') expect(filesUnder(env.DATA_DIR)).toEqual([join('same', 'key')]);
  });

  const badKeys = ['', '/abs/key', 'a//b', 'a/', 'a/./b', '.', '../escape', 'a/../../escape', 'a\\b', 'a\0b', 'x'.repeat(1025), 'a/.tmp-1'];

  it.each(badKeys.map((k) => [JSON.stringify(k.slice(0, 20)), k]))('when the key is %s, then every call refuses it', async (_, key) => {
    const { store, env } = openStore(kind);
    const refused = { name: 'InvalidBlobKeyError', code: 'invalid_blob_key' };
    await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject(refused);
    await expect(store.put(key, Readable.from([Buffer.from('x')]))).rejects.toMatchObject(refused);
    await expect(store.get(key)).rejects.toMatchObject(refused);
    await expect(store.stat(key)).rejects.toMatchObject(refused);
    await expect(store.delete(key)).rejects.toMatchObject(refused);
    expect(await keysOf(store, '')).toEqual([]);
    if (env.BLOB_STORE === 'fs') {
      expect(filesUnder(env.DATA_DIR)).toEqual([]);
      expect(existsSync(join(dirname(env.DATA_DIR), 'escape'))).toBe(false);
    }
  });

  it.each(['/', '../', 'a//', 'a/../b', 'a\\'])('when a prefix is %j, then list and deleteByPrefix refuse it', async (prefix) => {
    const { store } = openStore(kind);
    await store.put('a/b', Buffer.from('x'));
    await expect(keysOf(store, prefix)).rejects.toMatchObject({ name: 'InvalidBlobKeyError' });
    await expect(store.deleteByPrefix(prefix)).rejects.toMatchObject({ name: 'InvalidBlobKeyError' });
    expect(await keysOf(store, '')).toEqual(['a/b']);
  });
});

describe('blob store configuration', () => {
  it('when nothing is set, then the fs store on ./data is chosen, which cannot presign', () => {
    const env = parseEnv(schema, {});
    expect(env).toMatchObject({
      BLOB_STORE: 'fs',
      DATA_DIR: './data',
      S3_PREFIX: 'batchscribe/',
      S3_REGION: 'us-east-1',
      S3_FORCE_PATH_STYLE: false,
    });
    const store = createBlobStore(env);
    expect(store.kind).toBe('fs');
    expect(store.presignGet).toBeUndefined();
  });

  it('when BLOB_STORE=s3 has no S3_BUCKET, then parsing fails naming S3_BUCKET', () => {
    expect(() => parseEnv(schema, { BLOB_STORE: 's3' })).toThrow(/S3_BUCKET: is required when BLOB_STORE=s3/);
    // Another bad field does not hide it: every problem shows at the first start.
    expect(() => parseEnv(schema, { BLOB_STORE: 's3', S3_REGION: 'US EAST' })).toThrow(/S3_REGION: [^]*S3_BUCKET: is required/);
  });

  it.each([
    ['BLOB_STORE', 'gcs'],
    ['S3_ENDPOINT', 'not a url'],
    ['S3_FORCE_PATH_STYLE', 'yes'],
    ['S3_BUCKET', 'Bad_Bucket'],
    ['S3_PREFIX', '/rooted/'],
  ])('when %s=%s, then parsing fails naming it', (variable, value) => {
    expect(() => parseEnv(schema, { BLOB_STORE: 's3', S3_BUCKET: 'b-1', [variable]: value })).toThrow(new RegExp(`${variable}: `));
  });

  it('when BLOB_STORE=s3 is complete, then the s3 store is chosen and presigns GET URLs for its prefixed key', async () => {
    const env = parseEnv(schema, { BLOB_STORE: 's3', S3_BUCKET: 'b-1', S3_ENDPOINT: 'http://127.0.0.1:9', S3_FORCE_PATH_STYLE: 'true' });
    const store = createBlobStore(env);
    expect(store.kind).toBe('s3');
    const url = new URL(await store.presignGet!('up/a.m4a', 600));
    expect(url.pathname).toBe('/b-1/batchscribe/up/a.m4a');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    await store.close();
  });
});

describe('s3 blob store presigned GET', () => {
  it('when an object is presigned, then a plain HTTP GET of the URL returns its bytes', async () => {
    const { store } = openStore('s3');
    const body = Buffer.from('uploaded media bytes');
    await store.put('up/a.m4a', body);
    const url = await store.presignGet!('up/a.m4a', 600);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(body);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('600');
  });
});
