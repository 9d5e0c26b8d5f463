import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { cacheDir, SubmissionStore, UploadUrlStore } from '../src/uploads/resume-state.js';

let cache: string;

beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'bs-cli-cache-'));
});

afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
});

const upload = (url: string) => ({
  size: 10,
  metadata: { filename: 'a.m4a' },
  creationTime: 'now',
  uploadUrl: url,
  parallelUploadUrls: null,
});

describe('cacheDir', () => {
  it('when XDG_CACHE_HOME is set, then it is used; else ~/.cache', () => {
    expect(cacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toBe('/x/cache/batchscribe');
    expect(cacheDir({ XDG_CACHE_HOME: ' ', HOME: '/home/u' })).toBe('/home/u/.cache/batchscribe');
  });
});

describe('UploadUrlStore: tus-js-client’s URL storage, one file per fingerprint', () => {
  it('when an upload is added, then it is found by its fingerprint with its key, replaced by a newer one, and gone once removed', async () => {
    const store = new UploadUrlStore(cache);
    expect(await store.findUploadsByFingerprint('fp-1')).toEqual([]);
    const key = await store.addUpload('fp-1', upload('http://api/v1/uploads/upl_1'));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await store.findUploadsByFingerprint('fp-1')).toEqual([{ ...upload('http://api/v1/uploads/upl_1'), urlStorageKey: key }]);
    await store.addUpload('fp-1', upload('http://api/v1/uploads/upl_2'));
    await store.addUpload('fp-2', upload('http://api/v1/uploads/upl_3'));
    expect((await store.findUploadsByFingerprint('fp-1')).map((u) => u.uploadUrl)).toEqual(['http://api/v1/uploads/upl_2']);
    expect((await store.findAllUploads()).map((u) => u.uploadUrl).sort()).toEqual([
      'http://api/v1/uploads/upl_2',
      'http://api/v1/uploads/upl_3',
    ]);
    await store.removeUpload(key);
    expect(await store.findUploadsByFingerprint('fp-1')).toEqual([]);
    // No temporary files are left beside the entries; entries are readable by the user only.
    const names = await readdir(join(cache, 'uploads'));
    expect(names).toHaveLength(1);
    expect((await stat(join(cache, 'uploads', names[0]!))).mode & 0o777).toBe(0o600);
  });

  it('when an entry is damaged, then it is a miss (the file is uploaded again), not an error', async () => {
    const store = new UploadUrlStore(cache);
    const key = await store.addUpload('fp', upload('u'));
    await writeFile(join(cache, 'uploads', `${key}.json`), '{"uploadUrl": 4');
    expect(await store.findUploadsByFingerprint('fp')).toEqual([]);
  });

  it('when the cache cannot be written, then adding still answers (tus-js-client waits on it) and the error is reported', async () => {
    // A file where the cache's folder should be: refused even for root.
    await writeFile(join(cache, 'sub'), 'in the way');
    const errors: unknown[] = [];
    const store = new UploadUrlStore(join(cache, 'sub'), (err) => errors.push(err));
    expect(await store.addUpload('fp', upload('u'))).toMatch(/^[0-9a-f]{64}$/);
    expect(errors).toHaveLength(1);
    expect(await store.findUploadsByFingerprint('fp')).toEqual([]);
  });

  it('when entries are older than a week, then prune removes them and keeps the rest', async () => {
    const store = new UploadUrlStore(cache);
    const old = await store.addUpload('old', upload('o'));
    await store.addUpload('new', upload('n'));
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    await utimes(join(cache, 'uploads', `${old}.json`), eightDaysAgo, eightDaysAgo);
    await store.prune(Date.now());
    expect(await store.findUploadsByFingerprint('old')).toEqual([]);
    expect(await store.findUploadsByFingerprint('new')).toHaveLength(1);
  });
});

describe('SubmissionStore', () => {
  it('when a record is put, then it is read back by its digest; the job id is added once the job exists', async () => {
    const store = new SubmissionStore(cache);
    expect(await store.get('d1')).toBeUndefined();
    await store.put('d1', { key: 'bs-cli-x' });
    expect(await store.get('d1')).toEqual({ key: 'bs-cli-x' });
    await store.put('d1', { key: 'bs-cli-x', job_id: 'job_1' });
    expect(await store.get('d1')).toEqual({ key: 'bs-cli-x', job_id: 'job_1' });
    await writeFile(join(cache, 'submissions', 'd2.json'), '{"job_id": "job_2"}');
    expect(await store.get('d2')).toBeUndefined();
  });
});
