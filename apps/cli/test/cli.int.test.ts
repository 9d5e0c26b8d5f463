import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { Stack, TOKENS } from '../../../test/support/stack.js';
import { runCli } from '../src/index.js';
import { runCliProcess, type CliRun } from './cli-process.js';
import { memoryIo } from './fake-api.js';

// The real CLI, as a child process, against the whole service in this process: api, worker,
// foxapi simulator and the harness's Redis. Files whose URL contains `sim-fail` always fail.

const SRT_CUE = /^\d+\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\n.+/;
const JOB_ID = /^job_[0-9a-z]{26}$/;

let stack: Stack;
let dir: string;
const bs = (args: string[], opts: { token?: string; stdin?: string; url?: string } = {}): Promise<CliRun> =>
  runCliProcess(args, {
    env: { BATCHSCRIBE_URL: opts.url ?? stack.apiUrl, BATCHSCRIBE_TOKEN: opts.token ?? TOKENS.acme },
    stdin: opts.stdin,
  });
const media = (name: string) => `https://media.example.com/${name}.wav`;

/** stderr is exactly one `batchscribe: …` line. */
function expectOneErrorLine(run: CliRun, pattern: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^batchscribe: [^\n]+\n$/);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

beforeAll(async () => {
  stack = await Stack.start();
  dir = await mkdtemp(join(tmpdir(), 'bs-cli-int-'));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('batchscribe CLI against a running api + worker + simulator', () => {
  let doneId: string;
  let failedId: string;

  it('when a CSV with refs is submitted with --wait, then it shows progress, prints the job id and exits 0', async () => {
    const csv = [
      'url,ref',
      `${media('standup')},standup-2026-11-02`,
      `"${media('review')}","team/review, Q4"`,
      `${media('dup-a')},dup`,
      `${media('dup-b')},dup`,
      '',
    ].join('\r\n');
    await writeFile(join(dir, 'meetings.csv'), csv);
    const run = await bs(['submit', join(dir, 'meetings.csv'), '--wait', '--name', 'archive', '--lang', 'zh,en']);
    expect(run.stderr).toMatch(/submitted job_\w+: 4 files/);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(JOB_ID);
    expect(run.stderr).toMatch(/completed: 4 of 4 files transcribed\n$/);
    doneId = run.stdout.trim();
    const job = await stack.request<{ name: string; counts: { completed: number } }>('GET', `/v1/jobs/${doneId}`);
    expect(job.body).toMatchObject({ name: 'archive', counts: { completed: 4 } });
  });

  it('when results are fetched as srt, then DIR has one valid SRT file per input named by its ref', async () => {
    const run = await bs(['results', doneId, '--format', 'srt', '--out', join(dir, 'srt-out')]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(`wrote 4 srt files to ${join(dir, 'srt-out')}\n`);
    const names = (await readdir(join(dir, 'srt-out'))).sort();
    expect(names).toEqual(['dup-2.srt', 'dup.srt', 'standup-2026-11-02.srt', 'team_review, Q4.srt']);
    for (const name of names) expect(await readFile(join(dir, 'srt-out', name), 'utf8')).toMatch(SRT_CUE);
  });

  it('when results are fetched as ndjson, then each input has a file named by its ref holding its FileResult', async () => {
    const run = await bs(['results', doneId, '--format', 'ndjson', '--out', join(dir, 'nd-out')]);
    expect(run.code).toBe(0);
    const names = (await readdir(join(dir, 'nd-out'))).sort();
    expect(names).toEqual(['dup-2.ndjson', 'dup.ndjson', 'standup-2026-11-02.ndjson', 'team_review, Q4.ndjson']);
    const results = await Promise.all(
      names.map(async (n) => JSON.parse(await readFile(join(dir, 'nd-out', n), 'utf8')) as { ref: string; status: string }),
    );
    expect(results.map((r) => r.ref).sort()).toEqual(['dup', 'dup', 'standup-2026-11-02', 'team/review, Q4']);
    expect(results.every((r) => r.status === 'completed')).toBe(true);
  });

  it('when results are fetched as vtt and as json, then each input has a WebVTT file or its normalized transcript', async () => {
    const vtt = await bs(['results', doneId, '--format', 'vtt', '--out', join(dir, 'vtt-out')]);
    expect(vtt.code).toBe(0);
    const vttNames = (await readdir(join(dir, 'vtt-out'))).sort();
    expect(vttNames).toEqual(['dup-2.vtt', 'dup.vtt', 'standup-2026-11-02.vtt', 'team_review, Q4.vtt']);
    for (const name of vttNames) {
      expect(await readFile(join(dir, 'vtt-out', name), 'utf8')).toMatch(
        /^WEBVTT\n\n(\d+\n)?\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\n/,
      );
    }
    const json = await bs(['results', doneId, '--format', 'json', '--out', join(dir, 'json-out')]);
    expect(json.code).toBe(0);
    const transcript = JSON.parse(await readFile(join(dir, 'json-out', 'standup-2026-11-02.json'), 'utf8')) as {
      text: string;
      channels: Array<{ sentences: unknown[] }>;
    };
    expect(transcript.text.length).toBeGreaterThan(0);
    expect(transcript.channels[0]!.sentences.length).toBeGreaterThan(0);
  });

  it('when a JSON list is submitted from stdin with --model, --callback and --idempotency-key, then the job carries them, and the same key again gives the same job', async () => {
    const input = JSON.stringify([{ url: media('json-a'), ref: 'a' }, media('json-b')]);
    const args = [
      'submit',
      '-',
      '--model',
      'paraformer-8k-v2',
      '--callback',
      'https://hooks.example.com/batchscribe',
      '--idempotency-key',
      'cli-int-json-1',
    ];
    const first = await bs(args, { stdin: input });
    expect(first.code).toBe(0);
    const id = first.stdout.trim();
    expect(id).toMatch(JOB_ID);
    const job = await stack.request<{ model: string; callback_url: string; counts: { total: number } }>('GET', `/v1/jobs/${id}`);
    expect(job.body).toMatchObject({
      model: 'paraformer-8k-v2',
      callback_url: 'https://hooks.example.com/batchscribe',
      counts: { total: 2 },
    });
    const again = await bs(args, { stdin: input });
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(id);
  });

  it('when status is asked of a completed job, then it exits 0; --json gives the Job', async () => {
    const run = await bs(['status', doneId, '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: doneId, status: 'completed' });
    const human = await bs(['status', doneId]);
    expect(human.stdout).toContain('status:    completed');
  });

  it('when a file fails (sim-fail), then submit --wait exits 2 and says how the job ended', async () => {
    const run = await bs(['submit', '-', '--wait'], { stdin: `# one good, one bad\n${media('fine')}\n${media('sim-fail-1')}\n` });
    expect(run.code).toBe(2);
    failedId = run.stdout.trim();
    expect(failedId).toMatch(JOB_ID);
    expect(run.stderr).toMatch(/completed_with_errors: 1 of 2 files transcribed \(1 completed, 1 failed\)\n$/);
  });

  it('when status is asked of that job, then it exits 2', async () => {
    expect((await bs(['status', failedId])).code).toBe(2);
  });

  it('when its results are fetched, then the transcribed file is written, the failed one listed on stderr, exit 2', async () => {
    const run = await bs(['results', failedId, '--format', 'txt', '--out', join(dir, 'partial')]);
    expect(run.code).toBe(2);
    expect(await readdir(join(dir, 'partial'))).toEqual(['0.txt']);
    expect(run.stderr).toMatch(
      new RegExp(
        `^1 of 2 files have no transcript \\(job ${failedId} is completed_with_errors\\):\n  file 1 failed: .+sim-fail-1\\.wav\n$`,
      ),
    );
  });

  it('when the failed job is retried, then the retry is accepted (0) and watching it to its end exits 2 again', async () => {
    const retry = await bs(['retry', failedId]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toMatch(new RegExp(`^${failedId} retry accepted: 1 file queued again`));
    const watch = await bs(['watch', failedId]);
    expect(watch.code).toBe(2);
    expect(watch.stdout).toMatch(/completed_with_errors: 1 of 2 files transcribed/);
  });

  it('when jobs are listed, then both appear; --all --limit 1 follows the cursor', async () => {
    const table = await bs(['list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(doneId);
    expect(table.stdout).toContain(failedId);
    const all = await bs(['list', '--all', '--limit', '1', '--json']);
    expect(all.code).toBe(0);
    const ids = all.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(expect.arrayContaining([doneId, failedId]));
    const completedOnly = await bs(['list', '--status', 'completed', '--json']);
    expect(completedOnly.stdout).toContain(doneId);
    expect(completedOnly.stdout).not.toContain(failedId);
  });

  it('when a finished job is cancelled, then the 409 is one line and exit 1', async () => {
    expectOneErrorLine(await bs(['cancel', doneId]), /^batchscribe: 409 conflict: /);
  });

  it('when the input file has a bad URL, then exit 1 with one line naming the file and line, and no job is made', async () => {
    await writeFile(join(dir, 'bad.csv'), `url,ref\n${media('ok')},a\nftp://nope/x.wav,b\n`);
    const before = await stack.request<{ data: unknown[] }>('GET', '/v1/jobs?limit=100');
    expectOneErrorLine(
      await bs(['submit', join(dir, 'bad.csv')]),
      /^batchscribe: \/.+\/bad\.csv line 3: "ftp:\/\/nope\/x\.wav" is not an http or https URL\n$/,
    );
    const after = await stack.request<{ data: unknown[] }>('GET', '/v1/jobs?limit=100');
    expect(after.body.data).toHaveLength(before.body.data.length);
  });

  it('when the input file does not exist, then exit 1 with one line', async () => {
    expectOneErrorLine(
      await bs(['submit', 'no/such/missing.txt']),
      /^batchscribe: cannot read no\/such\/missing\.txt: no such file or directory\n$/,
    );
  });

  it('when the token is wrong, then exit 1 with one 401 line', async () => {
    expectOneErrorLine(await bs(['list'], { token: 'not-a-token' }), /^batchscribe: 401 unauthorized: .*BATCHSCRIBE_TOKEN/);
  });

  it('when another tenant asks for the job, then it is a 404 line, exit 1', async () => {
    expectOneErrorLine(await bs(['status', doneId], { token: TOKENS.globex }), /^batchscribe: 404 not-found: /);
  });

  it('when the server is not there, then exit 1 with one line naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    expectOneErrorLine(await bs(['list'], { url }), new RegExp(`^batchscribe: cannot reach ${url}: ECONNREFUSED`));
  });

  it('when the API serves job events, then watch follows the stream to its end without polling', async () => {
    const job = await stack.submit({ file_urls: [media('sse-1'), media('sse-2')] });
    const paths: string[] = [];
    const recording: typeof fetch = (input, init) => {
      paths.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    const mem = memoryIo({ fetch: recording, env: { BATCHSCRIBE_URL: stack.apiUrl, BATCHSCRIBE_TOKEN: TOKENS.acme } });
    expect(await runCli(['watch', job.id], mem.io)).toBe(0);
    expect(mem.out()).toBe(`${job.id} completed: 2 of 2 files transcribed\n`);
    expect(paths).toEqual([`/v1/jobs/${job.id}`, `/v1/jobs/${job.id}/events`]);
  });
});

describe('batchscribe transcript, delete, schedules and input errors against the running stack', () => {
  let jobId: string;

  it('when one transcript is asked for, then stdout is that file’s SRT', async () => {
    const submit = await bs(['submit', '-', '--wait', '--no-progress'], { stdin: `${media('one-a')}\n${media('one-b')}  # second\n` });
    expect(submit.code).toBe(0);
    jobId = submit.stdout.trim();
    const srt = await bs(['transcript', jobId, '1', '--format', 'srt']);
    expect(srt).toMatchObject({ code: 0, stderr: '' });
    expect(srt.stdout).toMatch(SRT_CUE);
    const same = await bs(['results', jobId, '--format', 'srt', '--index', '1']);
    expect(same.stdout).toBe(srt.stdout);
  });

  it('when the finished job is deleted, then it is gone: status is a 404', async () => {
    expect(await bs(['delete', jobId])).toMatchObject({ code: 0, stdout: `${jobId} deleted\n` });
    expectOneErrorLine(await bs(['status', jobId]), /^batchscribe: 404 not-found: /);
  });

  it('when a schedule is created from a URL list, listed, run with --wait and deleted, then each step answers as the API says', async () => {
    await writeFile(join(dir, 'nightly.txt'), `${media('nightly-1')}\n${media('nightly-2')} # the second\n`);
    const create = await bs(['schedules', 'create', '--name', 'cli nightly', '--cron', '0 2 * * *', '--file', join(dir, 'nightly.txt')]);
    expect(create.code).toBe(0);
    const id = create.stdout.trim();
    expect(id).toMatch(/^sch_[0-9a-z]{26}$/);
    const list = await bs(['schedules', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+0 2 \\* \\* \\*\\s+UTC\\s+\\S+\\s+-\\s+cli nightly$`, 'm'));
    const run = await bs(['schedules', 'run', id, '--wait']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(JOB_ID);
    expect(run.stderr).toMatch(/completed: 2 of 2 files transcribed\n$/);
    const made = await stack.request<{ schedule_id: string; name: string }>('GET', `/v1/jobs/${run.stdout.trim()}`);
    expect(made.body).toMatchObject({ schedule_id: id, name: 'cli nightly' });
    expect(await bs(['schedules', 'delete', id])).toMatchObject({ code: 0, stdout: `${id} deleted\n` });
    expectOneErrorLine(await bs(['schedules', 'show', id]), /^batchscribe: 404 not-found: /);
  });

  it('when several input lines are bad, then each is listed with its line and no job is made', async () => {
    const before = await stack.request<{ data: unknown[] }>('GET', '/v1/jobs?limit=100');
    const run = await bs(['submit', '-'], { stdin: `${media('fine')}\nnot a url\n${media('x')} ${media('y')}\n` });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        'batchscribe: stdin: 2 lines are not valid; nothing was submitted:',
        '  line 2: "not a url" contains a space at character 4',
        `  line 3: "${media('x')} ${media('y')}" contains a space at character 32`,
        '',
      ].join('\n'),
    );
    const after = await stack.request<{ data: unknown[] }>('GET', '/v1/jobs?limit=100');
    expect(after.body.data).toHaveLength(before.body.data.length);
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('batchscribe cancel against an api with no worker (the job stays queued)', () => {
  let idle: Stack;
  beforeAll(async () => {
    idle = await Stack.start({ worker: false });
  });
  afterAll(async () => {
    await idle?.stop();
  });

  it('when a queued job is cancelled, then cancel exits 0, the job is cancelled, and status then exits 2', async () => {
    const job = await idle.submit({ file_urls: [media('c1'), media('c2')] });
    const env = { BATCHSCRIBE_URL: idle.apiUrl, BATCHSCRIBE_TOKEN: TOKENS.acme };
    const cancel = await runCliProcess(['cancel', job.id], { env });
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^${job.id} cancel accepted \\((cancelled|cancelling)\\)\n$`));
    expect((await idle.waitForJob(job.id)).status).toBe('cancelled');
    const status = await runCliProcess(['status', job.id], { env });
    expect(status.code).toBe(2);
    expect((await runCliProcess(['cancel', job.id], { env })).code).toBe(0);
  });
});
