import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Stack, TOKENS } from '../../../test/support/stack.js';
import { runCliProcess, startCliProcess, type CliRun } from './cli-process.js';
import { startThrottleProxy } from './upload-api.js';
import { writeZip } from './zip-fixture.js';
import { wav } from '../../../scripts/lib/wav.js';
import { listFiles } from '../../../test/support/list-files.js';

// The archive workflow end to end: the real CLI as a child process, the whole service in this
// process (api with its tus endpoint, worker, foxapi simulator, the harness's Redis), a
// throttling proxy in front of the api so a run can be killed in the middle of an upload.

const SRT_CUE = /^\d+\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n.+/;

let stack: Stack;
let proxy: Awaited<ReturnType<typeof startThrottleProxy>>;
let work: string;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const patchesFrom = (from: number) => proxy.requests.slice(from).filter((r) => r.method === 'PATCH');
const idOf = (path: string) => path.split('/').pop()!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bs(args: string[], cache: string, cwd: string): Promise<CliRun> {
  return runCliProcess(args, { env: cliEnv(cache), cwd, timeoutMs: 90_000 });
}

function cliEnv(cache: string): Record<string, string> {
  return { BATCHSCRIBE_URL: proxy.url, BATCHSCRIBE_TOKEN: TOKENS.acme, XDG_CACHE_HOME: cache };
}

async function tree(root: string, files: Record<string, Buffer>): Promise<void> {
  for (const [rel, bytes] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), bytes);
  }
}

/**
 * Starts `submit` throttled (64 KiB chunks), kills it with -9 once `bytes` of PATCH bodies went through, waits
 * until the server has seen the end of every cut-off PATCH, and returns each cut-off upload's
 * offset on the server (GET /v1/uploads/{id}).
 */
async function killMidUpload(args: string[], cache: string, cwd: string, bytes: number): Promise<Map<string, number>> {
  proxy.state.bytesPerSecond = 150_000;
  const first = proxy.requests.length;
  // Small chunks: the client sends the next only once the server has taken the last, so what a
  // killed run leaves in the network's buffers is at most one chunk, not the rest of a file.
  const cli = startCliProcess(args, { env: { ...cliEnv(cache), BATCHSCRIBE_CHUNK_SIZE: '65536' }, cwd, timeoutMs: 90_000 });
  while (patchesFrom(first).reduce((n, r) => n + r.bytes, 0) < bytes) {
    if (cli.child.exitCode !== null) throw new Error(`the CLI ended before it was killed: ${cli.stderr()}`);
    await sleep(20);
  }
  cli.child.kill('SIGKILL');
  expect((await cli.done).code).toBeNull();
  proxy.state.bytesPerSecond = null;
  while (patchesFrom(first).some((r) => !r.closed)) await sleep(20);
  await sleep(100);
  const offsets = new Map<string, number>();
  for (const id of new Set(patchesFrom(first).map((r) => idOf(r.path)))) {
    const res = await stack.request<{ status: string; received: number; size: number }>('GET', `/v1/uploads/${id}`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('uploading');
    expect(res.body.received).toBeGreaterThan(0);
    expect(res.body.received).toBeLessThan(res.body.size);
    offsets.set(id, res.body.received);
  }
  return offsets;
}

beforeAll(async () => {
  stack = await Stack.start();
  proxy = await startThrottleProxy(stack.apiUrl);
  work = await mkdtemp(join(tmpdir(), 'bs-cli-archive-'));
});

afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the CLI against the api’s tus endpoint: a kill -9 in the middle of uploads, then --resume', () => {
  it('when the CLI is killed mid-upload and run again with --resume, then each cut-off upload continues from the api’s offset and every upload ends ready with the file’s sha256', async () => {
    const root = join(work, 'resume');
    const files = { '2026/11/standup.wav': wav(30, 1), '2026/11/review.wav': wav(25, 2), 'kickoff.wav': wav(10, 3) };
    await tree(join(root, 'recordings'), files);
    const cache = join(root, 'cache');
    const offsets = await killMidUpload(['submit', 'recordings', '--parallel', '2'], cache, root, 300_000);
    expect(offsets.size).toBe(2);

    const second = proxy.requests.length;
    const run = await bs(['submit', 'recordings', '--parallel', '2', '--resume'], cache, root);
    expect(run.stderr).toMatch(/^uploaded 3 files \(1\.04 MB\) in \d+s; 2 continued from an earlier run/m);
    for (const [id, offset] of offsets) {
      const patches = patchesFrom(second).filter((r) => idOf(r.path) === id);
      expect(patches[0]?.offset).toBe(offset);
    }
    const total = Object.values(files).reduce((n, b) => n + b.length, 0);
    const sent = patchesFrom(second).reduce((n, r) => n + r.bytes, 0);
    expect(sent).toBe(total - [...offsets.values()].reduce((a, b) => a + b, 0));

    // Every upload the second run made or finished is ready on the api with the file's digest.
    const ids = [...new Set(patchesFrom(second).map((r) => idOf(r.path)))];
    expect(ids).toHaveLength(3);
    const digests = await Promise.all(
      ids.map(async (id) => (await stack.request<{ status: string; sha256: string }>('GET', `/v1/uploads/${id}`)).body),
    );
    expect(digests.every((u) => u.status === 'ready')).toBe(true);
    expect(digests.map((u) => u.sha256).sort()).toEqual(Object.values(files).map(sha).sort());
  });
});

describe('submit PATH… end to end: a folder and a zip in, a folder of SRT files out', () => {
  it('when a folder and a zip are submitted with --wait, then the job transcribes every file and results --out gives SRT files in the same folders', async () => {
    const root = join(work, 'e2e');
    await tree(join(root, 'meetings'), { '2026/11/standup.wav': wav(3, 11), '2026/review.wav': wav(2, 12), 'notes.txt': Buffer.from('x') });
    await writeZip(join(root, 'calls.zip'), [
      { name: 'calls/2026-11-02.wav', data: wav(2, 13), compress: true },
      { name: 'calls/raw/2026-11-03.wav', data: wav(2, 14), compress: false },
    ]);
    const cache = join(root, 'cache');
    const run = await bs(['submit', 'meetings', 'calls.zip', '--wait'], cache, root);
    expect(run.stderr).toMatch(/submitted job_\w+: 4 files/);
    expect(run.stderr).toMatch(/completed: 4 of 4 files transcribed\n$/);
    expect(run.code).toBe(0);
    const id = run.stdout.trim();

    const results = await stack.request<{ data: Array<{ ref: string; upload_id: string; filename: string; status: string }> }>(
      'GET',
      `/v1/jobs/${id}/results?include_transcript=false`,
    );
    expect(results.body.data.map((r) => [r.ref, r.filename, r.status])).toEqual([
      ['2026/11/standup.wav', 'standup.wav', 'completed'],
      ['2026/review.wav', 'review.wav', 'completed'],
      ['calls/2026-11-02.wav', '2026-11-02.wav', 'completed'],
      ['calls/raw/2026-11-03.wav', '2026-11-03.wav', 'completed'],
    ]);
    expect(results.body.data.every((r) => r.upload_id.startsWith('upl_'))).toBe(true);

    const out = await bs(['results', id, '--format', 'srt', '--out', 'transcripts'], cache, root);
    expect(out).toMatchObject({ code: 0, stderr: '', stdout: 'wrote 4 srt files to transcripts\n' });
    const written = await listFiles(join(root, 'transcripts'));
    expect(written).toEqual(['2026/11/standup.srt', '2026/review.srt', 'calls/2026-11-02.srt', 'calls/raw/2026-11-03.srt']);
    for (const path of written) expect(await readFile(join(root, 'transcripts', path), 'utf8')).toMatch(SRT_CUE);
  });

  it('when the CLI is killed with -9 mid-upload and run again with --resume --wait, then the uploads continue, one job is made, and its SRT files come out', async () => {
    const root = join(work, 'e2e-kill');
    const files = { 'a/one.wav': wav(25, 21), 'a/two.wav': wav(25, 22), 'b/three.wav': wav(5, 23) };
    await tree(join(root, 'archive'), files);
    const cache = join(root, 'cache');
    const jobsBefore = (await stack.request<{ data: unknown[] }>('GET', '/v1/jobs?limit=100')).body.data.length;
    const offsets = await killMidUpload(['submit', 'archive', '--parallel', '2'], cache, root, 300_000);
    expect(offsets.size).toBe(2);

    const second = proxy.requests.length;
    const run = await bs(['submit', 'archive', '--parallel', '2', '--resume', '--wait'], cache, root);
    expect(run.code).toBe(0);
    for (const [id, offset] of offsets) expect(patchesFrom(second).find((r) => idOf(r.path) === id)?.offset).toBe(offset);
    const id = run.stdout.trim();

    // Run once more: the job is found again, nothing is uploaded or made twice.
    const again = await bs(['submit', 'archive', '--parallel', '2', '--resume'], cache, root);
    expect(again).toMatchObject({ code: 0, stdout: `${id}\n` });
    const jobs = (await stack.request<{ data: Array<{ id: string }> }>('GET', '/v1/jobs?limit=100')).body.data;
    expect(jobs.length - jobsBefore).toBe(1);
    expect(jobs[0]!.id).toBe(id);

    const out = await bs(['results', id, '--format', 'srt', '--out', 'srt'], cache, root);
    expect(out.code).toBe(0);
    expect(await listFiles(join(root, 'srt'))).toEqual(['a/one.srt', 'a/two.srt', 'b/three.srt']);
  });
});
