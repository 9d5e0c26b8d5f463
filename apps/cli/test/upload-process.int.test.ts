import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { runCli } from '../src/index.js';
import { runCliProcess, startCliProcess, type CliRun } from './cli-process.js';
import { serveUploadApi, startThrottleProxy, UPLOAD_TOKEN, type UploadApi } from './upload-api.js';
import { noise, writeZip } from './zip-fixture.js';

// The real CLI, as a child process, uploading folders and zips to a real tus server
// (@tus/server with its file store, as the api mounts it) and creating the job on a stand-in
// for POST /v1/jobs that honours idempotency keys. Against the whole service:
// test/archive.int.test.ts.

let work: string;
let api: UploadApi;
let storeDir: string;
let proxy: Awaited<ReturnType<typeof startThrottleProxy>>;
let cache: string;

/** Source bytes by ref: what the server must end up holding for each upload. */
const SOURCE = new Map<string, Buffer>();

const bs = (args: string[], extra: Record<string, string> = {}): Promise<CliRun> =>
  runCliProcess(args, { env: env(extra), cwd: work, timeoutMs: 60_000 });
const env = (extra: Record<string, string> = {}) => ({
  BATCHSCRIBE_URL: proxy.url,
  BATCHSCRIBE_TOKEN: UPLOAD_TOKEN,
  XDG_CACHE_HOME: cache,
  ...extra,
});

async function file(rel: string, bytes: Buffer): Promise<void> {
  await mkdir(join(work, rel, '..'), { recursive: true });
  await writeFile(join(work, rel), bytes);
}

/** The bytes the tus store holds for an upload. */
const stored = (id: string) => readFile(join(storeDir, id));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const patchesOf = (from: number) => proxy.requests.slice(from).filter((r) => r.method === 'PATCH');
const idOf = (path: string) => path.split('/').pop()!;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'bs-cli-upload-'));
  storeDir = join(work, 'tus-store');
  await mkdir(storeDir);
  api = await serveUploadApi(storeDir);
  proxy = await startThrottleProxy(api.url);
  const media: Record<string, Buffer> = {
    'meetings/2026/11/standup.m4a': noise(600_000, 11),
    'meetings/2026/11/review.MP4': noise(500_000, 12),
    'meetings/2025/kickoff.wav': noise(400_000, 13),
  };
  for (const [rel, bytes] of Object.entries(media)) {
    await file(rel, bytes);
    SOURCE.set(rel.slice('meetings/'.length), bytes);
  }
  await file('meetings/notes.txt', Buffer.from('not media'));
  await file('meetings/.DS_Store', Buffer.from('junk'));
  const zipped = { 'calls/deflated.m4a': noise(700_000, 21), 'calls/stored.wav': noise(650_000, 22), 'intro.opus': noise(5_000, 23) };
  await writeZip(join(work, 'export.zip'), [
    { name: 'calls/deflated.m4a', data: zipped['calls/deflated.m4a'], compress: true },
    { name: 'calls/stored.wav', data: zipped['calls/stored.wav'], compress: false },
    { name: 'intro.opus', data: zipped['intro.opus'], compress: true },
    { name: '__MACOSX/calls/._stored.wav', data: Buffer.from('fork') },
  ]);
  for (const [rel, bytes] of Object.entries(zipped)) SOURCE.set(rel, bytes);
  await writeFile(join(work, 'urls.txt'), 'https://media.example.com/extra.wav\n');
});

beforeEach(async () => {
  cache = await mkdtemp(join(work, 'cache-'));
  proxy.state.bytesPerSecond = null;
  proxy.state.maxOpenPatches = 0;
});

afterEach(() => {
  api.jobs.length = 0;
  api.jobPosts = 0;
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every upload of the job holds exactly its source file's bytes. */
async function expectJobBytesMatch(files: ReadonlyArray<{ upload_id?: string; ref?: string }>): Promise<void> {
  for (const f of files) {
    if (!f.upload_id) continue;
    const source = SOURCE.get(f.ref!);
    expect(source).toBeDefined();
    expect(sha(await stored(f.upload_id))).toBe(sha(source!));
  }
}

describe('submit PATH…: folders and zips uploaded by tus, then one job', () => {
  it('when a zip, a folder and a URL list are submitted, then every media file is uploaded with its path as ref and the job names them in that order', async () => {
    const run = await bs(['submit', 'export.zip', 'meetings', 'urls.txt', '--parallel', '3']);
    expect(run.stderr).toContain('export.zip: 3 audio/video files (1 other file skipped)\n');
    expect(run.stderr).toContain('meetings/: 3 audio/video files (2 other files skipped)\n');
    expect(run.stderr).toMatch(/^uploading 6 files \(2\.85 MB\)$/m);
    expect(run.stderr).toMatch(/^uploaded 6 files \(2\.85 MB\) in \d+s$/m);
    expect(run.code).toBe(0);
    expect(api.jobs).toHaveLength(1);
    const [job] = api.jobs;
    expect(run.stdout).toBe(`${job!.id}\n`);
    expect(job!.body.files.map((f) => f.ref ?? f.url)).toEqual([
      'calls/deflated.m4a',
      'calls/stored.wav',
      'intro.opus',
      '2025/kickoff.wav',
      '2026/11/review.MP4',
      '2026/11/standup.m4a',
      'https://media.example.com/extra.wav',
    ]);
    expect(job!.body.files.slice(0, 6).every((f) => /^upl_[0-9a-f]{24}$/.test(f.upload_id ?? ''))).toBe(true);
    expect(job!.key).toMatch(/^bs-cli-[0-9a-f]{40}-[0-9a-f]{16}$/);
    await expectJobBytesMatch(job!.body.files);
    const filenames = await Promise.all(job!.body.files.slice(0, 6).map(async (f) => (await api.upload(f.upload_id!)).filename));
    expect(filenames).toEqual(['deflated.m4a', 'stored.wav', 'intro.opus', 'kickoff.wav', 'review.MP4', 'standup.m4a']);
    expect(proxy.state.maxOpenPatches).toBeLessThanOrEqual(3);

    const out = await bs(['results', job!.id, '--format', 'srt', '--out', 'srt-out']);
    expect(out).toMatchObject({ code: 0, stderr: '', stdout: 'wrote 7 srt files to srt-out\n' });
    const written = (await readdir(join(work, 'srt-out'), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(join(work, 'srt-out').length + 1))
      .sort();
    expect(written).toEqual(
      ['0.srt', '2025/kickoff.srt', '2026/11/review.srt', '2026/11/standup.srt', 'calls/deflated.srt', 'calls/stored.srt', 'intro.srt']
        .map((p) => (p === '0.srt' ? '6.srt' : p))
        .sort(),
    );
    expect(await readFile(join(work, 'srt-out/2026/11/standup.srt'), 'utf8')).toBe(
      '1\n00:00:00,000 --> 00:00:01,500\n2026/11/standup.m4a\n',
    );
  });

  it('when the CLI is killed with -9 in the middle of uploads and run again with --resume, then each upload continues from the server’s offset and one job is created', async () => {
    proxy.state.bytesPerSecond = 200_000;
    const first = proxy.requests.length;
    // Small chunks: the next goes out only once the server took the last, so the network's
    // buffers hold at most one chunk of a killed run, never the rest of a file.
    const killed = startCliProcess(['submit', 'export.zip', 'meetings', '--parallel', '2'], {
      env: env({ BATCHSCRIBE_CHUNK_SIZE: '65536' }),
      cwd: work,
    });
    // Until about a third of the first two uploads is through.
    while (patchesOf(first).reduce((n, r) => n + r.bytes, 0) < 400_000) await new Promise((r) => setTimeout(r, 20));
    killed.child.kill('SIGKILL');
    const dead = await killed.done;
    expect(dead.code).toBeNull();
    expect(api.jobPosts).toBe(0);
    // Bytes the killed process had already handed to the network still arrive: wait until the
    // server has seen the end of every cut-off PATCH, then read where it has each upload.
    while (patchesOf(first).some((r) => !r.closed)) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));

    const cut = [...new Set(patchesOf(first).map((r) => idOf(r.path)))];
    expect(cut).toHaveLength(2);
    const offsets = new Map<string, number>();
    for (const id of cut) {
      const { offset, size } = await api.upload(id);
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(size!);
      offsets.set(id, offset);
    }

    proxy.state.bytesPerSecond = null;
    const second = proxy.requests.length;
    const run = await bs(['submit', 'export.zip', 'meetings', '--parallel', '2', '--resume']);
    expect(run.stderr).toMatch(
      /^uploaded 6 files \(2\.85 MB\) in \d+s; 2 continued from an earlier run \([\d.]+ (kB|MB) not sent again\)$/m,
    );
    expect(run.code).toBe(0);
    // The cut-off uploads went on from where the server had them: their first PATCH says so, and no byte before it was sent again.
    for (const id of cut) {
      const resumed = patchesOf(second).filter((r) => idOf(r.path) === id);
      expect(resumed[0]?.offset).toBe(offsets.get(id));
    }
    const total = [...SOURCE.entries()].filter(([ref]) => !ref.startsWith('http')).reduce((n, [, b]) => n + b.length, 0);
    const sentAgain = patchesOf(second).reduce((n, r) => n + r.bytes, 0);
    expect(sentAgain).toBe(total - [...offsets.values()].reduce((a, b) => a + b, 0));
    expect(api.jobs).toHaveLength(1);
    const ids = api.jobs[0]!.body.files.map((f) => f.upload_id);
    for (const id of cut) expect(ids).toContain(id);
    await expectJobBytesMatch(api.jobs[0]!.body.files);

    // Once more with --resume: the job is already there; nothing is uploaded, no job is made.
    const third = proxy.requests.length;
    const again = await bs(['submit', 'export.zip', 'meetings', '--parallel', '2', '--resume']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`these inputs were already submitted as ${api.jobs[0]!.id}; nothing uploaded\n`);
    expect(again.stdout).toBe(`${api.jobs[0]!.id}\n`);
    expect(proxy.requests.slice(third).filter((r) => r.path.startsWith('/v1/uploads'))).toEqual([]);
    expect(api.jobs).toHaveLength(1);
  });

  it('when a run is stopped after the server created the job but before the CLI recorded it, then --resume sends the same body with the same key and gets that job back', async () => {
    const run = await bs(['submit', 'meetings/2026']);
    expect(run.code).toBe(0);
    const [job] = api.jobs;
    // What a kill between the answer and the record leaves: the key, no job id.
    const submissions = join(cache, 'batchscribe', 'submissions');
    const [record] = await readdir(submissions);
    await writeFile(join(submissions, record!), JSON.stringify({ key: job!.key }));
    const before = proxy.requests.length;
    const again = await bs(['submit', 'meetings/2026', '--resume']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${job!.id} was already submitted with this idempotency key`);
    expect(api.jobPosts).toBe(2);
    expect(api.jobs).toHaveLength(1);
    // The uploads were complete: the second run only asked their offsets.
    expect(
      proxy.requests
        .slice(before)
        .filter((r) => r.path.startsWith('/v1/uploads'))
        .map((r) => r.method),
    ).toEqual(['HEAD', 'HEAD']);
  });

  it('when the job an earlier run made has been deleted since, then --resume makes a new one from the same uploads', async () => {
    expect((await bs(['submit', 'meetings/2025'])).code).toBe(0);
    const first = api.jobs.splice(0)[0]!; // deleted: GET /v1/jobs/{id} is a 404 now
    const again = await bs(['submit', 'meetings/2025', '--resume']);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('already submitted');
    expect(api.jobs).toHaveLength(1);
    expect(api.jobs[0]!.id).not.toBe(first.id);
    expect(api.jobs[0]!.key).not.toBe(first.key);
    expect(api.jobs[0]!.body.files[0]!.upload_id).toBe(first.body.files[0]!.upload_id);
  });

  it('when the same folder is submitted again without --resume, then it is a new submission: new uploads, a new job', async () => {
    expect((await bs(['submit', 'meetings/2025'])).code).toBe(0);
    expect((await bs(['submit', 'meetings/2025'])).code).toBe(0);
    expect(api.jobs).toHaveLength(2);
    expect(api.jobs[0]!.key).not.toBe(api.jobs[1]!.key);
    expect(api.jobs[0]!.body.files[0]!.upload_id).not.toBe(api.jobs[1]!.body.files[0]!.upload_id);
  });

  it('when the server refuses some files, then the others are uploaded, one error lists the refused ones, and no job is created', async () => {
    const root = join(work, 'partly');
    await mkdir(join(root, 'x'), { recursive: true });
    await writeFile(join(root, 'ok.m4a'), noise(20_000, 5));
    await writeFile(join(root, 'refuse-1.m4a'), noise(10, 6));
    await writeFile(join(root, 'x', 'refuse-2.wav'), noise(10, 7));
    const before = proxy.requests.length;
    const run = await bs(['submit', 'partly']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      [
        'batchscribe: 2 files could not be uploaded; nothing was submitted (the others are uploaded: run again with --resume to continue):',
        '  partly/refuse-1.m4a: 415 unsupported-media-type: This file is refused.',
        '  partly/x/refuse-2.wav: 415 unsupported-media-type: This file is refused.',
        '',
      ].join('\n'),
    );
    expect(api.jobPosts).toBe(0);
    const ok = proxy.requests.slice(before).find((r) => r.method === 'PATCH');
    expect(ok && (await api.upload(idOf(ok.path))).offset).toBe(20_000);
  });

  it('when the token is refused, then one error line names where it came from and no job is created', async () => {
    const run = await bs(['submit', 'meetings'], { BATCHSCRIBE_TOKEN: 'wrong' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /\nbatchscribe: 401 unauthorized: The bearer token is not valid\. \(check the token from BATCHSCRIBE_TOKEN\)\n$/,
    );
    expect(run.stderr.match(/^batchscribe: /gm)).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(api.jobPosts).toBe(0);
  });

  it('when stderr is a terminal, then one bar shows bytes and files while uploading', async () => {
    class Tty extends Writable {
      text = '';
      readonly isTTY = true;
      readonly columns = 200;
      override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
        this.text += chunk.toString();
        done();
      }
    }
    const stderr = new Tty();
    const stdout = new Tty();
    const code = await runCli(['submit', 'meetings'], { env: env(), cwd: work, stderr, stdout });
    expect(code).toBe(0);
    expect(stderr.text).toMatch(/[█░]{24} [\d.]+ (kB|MB) of 1\.50 MB \| \d of 3 files uploaded/);
  });
});
