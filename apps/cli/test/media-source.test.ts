import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DiskFile } from '../src/sources/folder.js';
import { createSelector } from '../src/sources/media-names.js';
import { ZipArchive, type ZipScan } from '../src/sources/zip-archive.js';
import { ByteReader, mediaFingerprint, openMediaSource, type MediaSource } from '../src/uploads/media-source.js';
import { noise, writeZip } from './zip-fixture.js';

// What tus-js-client asks of a source: the bytes of any range, in order, again after a failed
// request, and from the middle when an upload resumes after a kill.

const DATA = noise(300_000, 9);
let dir: string;
let disk: DiskFile;
let zip: ZipScan;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bs-cli-media-'));
  await writeFile(join(dir, 'a.m4a'), DATA);
  const info = await stat(join(dir, 'a.m4a'));
  disk = { kind: 'disk', path: join(dir, 'a.m4a'), ref: 'a.m4a', size: info.size, mtimeMs: info.mtimeMs };
  await writeZip(join(dir, 'both.zip'), [
    { name: 'deflated.m4a', data: DATA, compress: true },
    { name: 'stored.m4a', data: DATA, compress: false },
  ]);
  zip = await ZipArchive.scan(join(dir, 'both.zip'), 'both.zip', createSelector({}));
});

afterAll(async () => {
  zip?.archive.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function bytesOf(value: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(value)) return value;
  const parts: Buffer[] = [];
  for await (const chunk of value) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function expectSlice(source: MediaSource, start: number, end: number): Promise<boolean> {
  const { value, done } = await source.slice(start, end);
  const expected = DATA.subarray(start, Math.min(end, DATA.length));
  expect(value.size).toBe(expected.length);
  expect((await bytesOf(value)).equals(expected)).toBe(true);
  return done;
}

const sources = () =>
  [
    ['a file on disk', () => openMediaSource(disk)],
    ['a stored zip entry', () => openMediaSource(zip.files.find((f) => f.ref === 'stored.m4a')!)],
    ['a deflated zip entry', () => openMediaSource(zip.files.find((f) => f.ref === 'deflated.m4a')!)],
  ] as const;

describe.each(sources())('openMediaSource: %s', (_name, open) => {
  it('when read in chunks from 0, then each chunk is the right bytes and the last says done', async () => {
    const source = open();
    const chunk = 64 * 1024;
    for (let start = 0; start < DATA.length; start += chunk) {
      const done = await expectSlice(source, start, start + chunk);
      expect(done).toBe(start + chunk >= DATA.length);
    }
    source.close();
  });

  it('when an upload resumes at an odd offset in the middle, then reading starts exactly there', async () => {
    const source = open();
    await expectSlice(source, 123_457, 123_457 + 50_000);
    expect(await expectSlice(source, 173_457, 10_000_000)).toBe(true);
    source.close();
  });

  it('when a chunk is retried, or the server says an earlier offset, then the earlier bytes come again', async () => {
    const source = open();
    await expectSlice(source, 0, 100_000);
    await expectSlice(source, 100_000, 200_000);
    await expectSlice(source, 100_000, 200_000); // the same chunk again
    await expectSlice(source, 150_000, 200_000); // the server had half of it
    await expectSlice(source, 0, 10); // an expired upload starts over
    await expectSlice(source, 10, 300_000);
    source.close();
  });
});

describe('a large deflated entry', () => {
  it('when an upload resumes 200 MiB into a 256 MiB deflated entry, then it is inflated through without holding more than a chunk', async () => {
    const size = 256 * 1024 * 1024;
    const path = join(dir, 'big.zip');
    let left = size;
    const zeros = new Readable({
      read() {
        const n = Math.min(left, 1024 * 1024);
        left -= n;
        this.push(n > 0 ? Buffer.alloc(n) : null);
      },
    });
    await writeZip(path, [{ name: 'long-meeting.wav', stream: zeros, compress: true }]);
    expect((await stat(path)).size).toBeLessThan(2 * 1024 * 1024);
    const scan = await ZipArchive.scan(path, 'big.zip', createSelector({}));
    try {
      const file = scan.files[0]!;
      expect(file.size).toBe(size);
      const source = openMediaSource(file);
      global.gc?.();
      const before = process.memoryUsage();
      let peak = 0;
      const chunk = 4 * 1024 * 1024;
      for (let start = 200 * 1024 * 1024; start < size; start += chunk) {
        const { value } = await source.slice(start, start + chunk);
        const bytes = await bytesOf(value);
        expect(bytes.length).toBe(chunk);
        expect(bytes.every((b) => b === 0)).toBe(true);
        const now = process.memoryUsage();
        peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers + (now.heapUsed - before.heapUsed));
      }
      source.close();
      // Inflating the first 200 MiB went through, not into memory: holding it would take 200 MiB
      // or more. The bound leaves room for garbage V8 has not collected yet (no --expose-gc here),
      // which on a loaded machine reached 80 MiB.
      expect(peak).toBeLessThan(160 * 1024 * 1024);
    } finally {
      scan.archive.close();
    }
  });
});

describe('ByteReader', () => {
  it('when reads and skips cross the stream’s chunks, then each gets exactly its bytes, and fewer only at the end', async () => {
    const reader = new ByteReader(Readable.from([Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')]));
    expect((await reader.read(2)).toString()).toBe('ab');
    expect(await reader.skip(4)).toBe(4);
    expect((await reader.read(3)).toString()).toBe('ghi');
    expect((await reader.read(5)).toString()).toBe('j');
    expect(await reader.skip(5)).toBe(0);
  });
});

describe('mediaFingerprint', () => {
  it('when a file is rewritten (new modification time), then its fingerprint changes; read again unchanged, it does not', async () => {
    const first = mediaFingerprint(disk);
    const again = await stat(disk.path);
    expect(mediaFingerprint({ ...disk, mtimeMs: again.mtimeMs })).toBe(first);
    await utimes(disk.path, new Date(), new Date(Date.now() + 5000));
    const touched = await stat(disk.path);
    expect(mediaFingerprint({ ...disk, mtimeMs: touched.mtimeMs })).not.toBe(first);
  });

  it('when two entries of an archive have the same content, then their fingerprints still differ by name; an entry’s does not depend on the archive’s time', () => {
    const [a, b] = zip.files;
    expect(mediaFingerprint(a!)).not.toBe(mediaFingerprint(b!));
    expect(mediaFingerprint(a!)).toContain(String(a!.crc32));
    expect(createHash('sha256').update(mediaFingerprint(a!)).digest('hex')).toMatch(/^[0-9a-f]{64}$/);
  });
});
