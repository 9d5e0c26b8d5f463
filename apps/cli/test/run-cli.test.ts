import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runCli } from '../src/index.js';
import { fakeApi, json, makeJob, memoryIo, problem, type Route } from './fake-api.js';

const ID = 'job_01jd0000000000000000000000';
const A = 'https://media.example.com/a.wav';
const B = 'https://media.example.com/b.wav';

async function cli(argv: string[], route: Route, extra: Parameters<typeof memoryIo>[0] = {}) {
  const api = fakeApi(route);
  const mem = memoryIo({ fetch: api.fetch, ...extra });
  const code = await runCli(argv, mem.io);
  return { code, out: mem.out(), err: mem.err(), requests: api.requests };
}

const noEvents: Route = (req) => problem(404, 'not-found', `No route for GET ${req.url.pathname}.`);

describe('runCli: errors are one line and exit 1', () => {
  it('when the API answers a problem, then stderr is `batchscribe: <status> <type>: <detail>`', async () => {
    const r = await cli(
      ['submit', '-'],
      () => problem(422, 'validation-error', 'The job is invalid: file_urls.3 must be an http or https URL.'),
      { stdinText: A },
    );
    expect(r.code).toBe(1);
    expect(r.err).toBe('batchscribe: 422 validation-error: The job is invalid: file_urls.3 must be an http or https URL.\n');
    expect(r.out).toBe('');
  });

  it('when the token is refused, then the line says where the token comes from', async () => {
    const r = await cli(['status', ID], () => problem(401, 'unauthorized', 'The bearer token is not valid.'));
    expect(r.code).toBe(1);
    expect(r.err).toBe('batchscribe: 401 unauthorized: The bearer token is not valid. (check the token from BATCHSCRIBE_TOKEN)\n');
  });

  it('when the server cannot be reached, then the line names the URL and the cause', async () => {
    const r = await cli(['list'], () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })));
    expect(r.code).toBe(1);
    expect(r.err).toBe('batchscribe: cannot reach http://api.test: ECONNREFUSED (check the URL from BATCHSCRIBE_URL)\n');
  });

  it('when the answer is not the API (HTML), then it says so in one line', async () => {
    const r = await cli(['status', ID], () => new Response('<html>\n<body>proxy</body>\n</html>', { status: 200 }));
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toHaveLength(2);
    expect(r.err).toMatch(/^batchscribe: unexpected answer from http:\/\/api\.test: not JSON/);
  });

  it('when a 5xx is not problem+json, then the line carries its text and request id', async () => {
    const r = await cli(
      ['status', ID],
      () => new Response('Bad gateway\n', { status: 502, statusText: 'Bad Gateway', headers: { 'x-request-id': 'req-1' } }),
    );
    expect(r.err).toBe('batchscribe: 502 bad gateway: Bad gateway (request id req-1)\n');
  });

  it('when the input file does not exist, then it says so without calling the API', async () => {
    const r = await cli(['submit', 'nope.txt'], () => json(500, {}), { cwd: tmpdir() });
    expect(r).toMatchObject({ code: 1, err: 'batchscribe: cannot read nope.txt: no such file or directory\n', requests: [] });
  });

  it('when the input is invalid, then the line names the input and line', async () => {
    const r = await cli(['submit', '-'], () => json(500, {}), { stdinText: `${A}\nfoo\n` });
    expect(r).toMatchObject({ code: 1, err: 'batchscribe: stdin line 2: "foo" is not an http or https URL\n', requests: [] });
  });

  it('when a flag is unknown or an argument missing, then commander’s message is one line', async () => {
    expect((await cli(['list', '--bogus'], () => json(200, {}))).err).toBe("batchscribe: unknown option '--bogus'\n");
    expect((await cli(['status'], () => json(200, {}))).err).toBe("batchscribe: missing required argument 'ID'\n");
    expect((await cli(['results', ID, '--out', 'x', '--format', 'pdf'], () => json(200, {}))).code).toBe(1);
  });

  it('when BATCHSCRIBE_URL is not a URL, then the line names the variable', async () => {
    const r = await cli(['list'], () => json(200, {}), { env: { BATCHSCRIBE_URL: 'localhost:3000' } });
    expect(r.err).toBe('batchscribe: BATCHSCRIBE_URL must be an http or https URL: localhost:3000\n');
  });
});

describe('runCli submit', () => {
  it('when the CSV has refs and flags are given, then it POSTs files with refs and the options, and prints the id', async () => {
    const r = await cli(
      [
        'submit',
        '-',
        '--model',
        'paraformer-8k-v2',
        '--lang',
        'zh, en',
        '--name',
        'archive',
        '--callback',
        'https://hooks.test/x',
        '--priority',
        'bulk',
        '--idempotency-key',
        'k1',
      ],
      () => json(202, makeJob({ status: 'queued', counts: { completed: 0, queued: 2, total: 2 } })),
      { stdinText: `url,ref\n${A},one\n${B},two\n` },
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${ID}\n`);
    const req = r.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url.href).toBe('http://api.test/v1/jobs');
    expect(req.headers).toMatchObject({ authorization: 'Bearer tok', 'idempotency-key': 'k1', 'content-type': 'application/json' });
    expect(req.body).toEqual({
      files: [
        { url: A, ref: 'one' },
        { url: B, ref: 'two' },
      ],
      model: 'paraformer-8k-v2',
      language_hints: ['zh', 'en'],
      name: 'archive',
      callback_url: 'https://hooks.test/x',
      priority: 'bulk',
    });
  });

  it('when no input has a ref, then it sends file_urls', async () => {
    const r = await cli(['submit', '-'], () => json(202, makeJob({ status: 'queued' })), { stdinText: `${A}\n${B}\n` });
    expect(r.requests[0]!.body).toEqual({ file_urls: [A, B] });
  });

  it('when --wait and a file fails, then it follows the job (polling without SSE), prints progress lines and exits 2', async () => {
    const states = [
      makeJob({ status: 'running', counts: { completed: 1, queued: 2 } }),
      makeJob({ status: 'completed_with_errors', counts: { completed: 2, failed: 1 } }),
    ];
    const r = await cli(
      ['submit', '-', '--wait'],
      (req) =>
        req.method === 'POST'
          ? json(202, makeJob({ status: 'queued', counts: { completed: 0, queued: 3 } }))
          : req.url.pathname.endsWith('/events')
            ? noEvents(req)
            : json(200, states.shift() ?? states[0]),
      { stdinText: A },
    );
    expect(r.code).toBe(2);
    expect(r.out).toBe(`${ID}\n`);
    expect(r.err).toContain(`${ID} queued · 0/3 transcribed (0%) · 0 failed · 0 cancelled · 0 submitted · 3 queued · ETA --`);
    expect(r.err).toContain(`${ID} running · 1/3 transcribed (33%) · 0 failed · 0 cancelled · 0 submitted · 2 queued · ETA`);
    expect(r.err.trimEnd().split('\n').at(-1)).toBe(`${ID} completed_with_errors: 2 of 3 files transcribed (2 completed, 1 failed)`);
  });

  it('when --wait and every file is transcribed, then it exits 0; --json prints the final Job', async () => {
    const r = await cli(
      ['submit', '-', '--wait', '--json', '--no-progress'],
      (req) =>
        req.method === 'POST'
          ? json(202, makeJob({ status: 'queued' }))
          : req.url.pathname.endsWith('/events')
            ? noEvents(req)
            : json(200, makeJob()),
      {
        stdinText: A,
      },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ id: ID, status: 'completed' });
    expect(r.err).not.toContain('ETA');
  });

  it('when the idempotency key replays an earlier job, then it says so and prints that id', async () => {
    const r = await cli(
      ['submit', '-', '--idempotency-key', 'k'],
      () => json(200, makeJob({ status: 'running' }), { 'idempotent-replayed': 'true' }),
      { stdinText: A },
    );
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${ID}\n`);
    expect(r.err).toContain('already submitted with this idempotency key');
  });
});

describe('runCli status, list, cancel, retry', () => {
  it.each([
    ['completed', {}, 0],
    ['running', { completed: 1, queued: 2 }, 0],
    ['completed_with_errors', { completed: 2, failed: 1 }, 2],
    ['cancelled', { completed: 1, cancelled: 2 }, 2],
    ['failed', { completed: 0, failed: 3 }, 2],
  ])('when status finds the job %s, then it exits %s', async (status, counts, code) => {
    const r = await cli(['status', ID], () => json(200, makeJob({ status, counts })));
    expect(r.code).toBe(code);
    expect(r.out).toContain(`status:    ${status}`);
  });

  it('when list --all, then it follows next_cursor and prints one table', async () => {
    const pages: Record<string, unknown> = {
      '': { data: [makeJob({ id: 'job_a' })], next_cursor: 'c2' },
      c2: { data: [makeJob({ id: 'job_b', status: 'failed' })], next_cursor: null },
    };
    const r = await cli(['list', '--all', '--limit', '1', '--status', 'completed'], (req) =>
      json(200, pages[req.url.searchParams.get('cursor') ?? '']),
    );
    expect(r.code).toBe(0);
    expect(r.requests.map((q) => q.url.search)).toEqual(['?status=completed&limit=1', '?status=completed&limit=1&cursor=c2']);
    expect(r.out.split('\n')[0]).toMatch(/^ID\s+STATUS/);
    expect(r.out).toContain('job_a');
    expect(r.out).toContain('job_b');
  });

  it('when cancel is refused because the job finished, then it is one 409 line and exit 1', async () => {
    const r = await cli(['cancel', ID], () => problem(409, 'conflict', 'The job has finished; nothing to cancel.'));
    expect(r).toMatchObject({ code: 1, err: 'batchscribe: 409 conflict: The job has finished; nothing to cancel.\n' });
  });

  it('when retry is accepted, then it says how many files go out again and exits 0', async () => {
    const r = await cli(['retry', ID], () => json(202, makeJob({ status: 'queued', counts: { completed: 2, queued: 1 } })));
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${ID} retry accepted: 1 file queued again (queued)\n`);
    expect(r.requests[0]).toMatchObject({ method: 'POST' });
    expect(r.requests[0]!.url.pathname).toBe(`/v1/jobs/${ID}/retry`);
  });
});

describe('runCli results', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bs-results-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const files = [
    { index: 0, file_url: A, ref: 'team/sync', status: 'completed', error: null },
    { index: 1, file_url: B, ref: 'dup', status: 'completed', error: null },
    { index: 2, file_url: B, ref: 'dup', status: 'failed', error: { code: 'download_failed', message: 'HTTP 404' } },
    { index: 3, file_url: B, ref: 'dup', status: 'completed', error: null },
    { index: 4, file_url: A, ref: null, status: 'completed', error: null },
  ];
  const job = makeJob({ status: 'completed_with_errors', counts: { total: 5, completed: 4, failed: 1 } });
  const route: Route = (req) => {
    const path = req.url.pathname;
    if (path === `/v1/jobs/${ID}`) return json(200, job);
    if (path === `/v1/jobs/${ID}/results`) {
      if (req.headers.accept === 'application/x-ndjson')
        return new Response(files.map((f) => JSON.stringify(f)).join('\n') + '\n', { headers: { 'content-type': 'application/x-ndjson' } });
      const start = Number(req.url.searchParams.get('cursor') ?? 0);
      return json(200, { data: files.slice(start, start + 3), next_cursor: start + 3 < files.length ? String(start + 3) : null });
    }
    const m = /\/files\/(\d+)\/transcript$/.exec(path);
    if (m) return new Response(`1\n00:00:00,000 --> 00:00:01,000\nfile ${m[1]} ${req.url.searchParams.get('format')}\n`);
    return json(599, {});
  };

  it('when the format is srt, then each completed input is a file named by its ref (sanitized, de-duplicated) or index, and failures are summed up on stderr', async () => {
    const r = await cli(['results', ID, '--format', 'srt', '--out', join(dir, 'out')], route);
    expect(r.code).toBe(2);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['4.srt', 'dup-3.srt', 'dup.srt', 'team_sync.srt']);
    expect(await readFile(join(dir, 'out', 'dup-3.srt'), 'utf8')).toContain('file 3 srt');
    expect(r.out).toBe(`wrote 4 srt files to ${join(dir, 'out')}\n`);
    expect(r.err).toBe(
      `1 of 5 files have no transcript (job ${ID} is completed_with_errors):\n  file 2 (ref dup) failed: download_failed: HTTP 404 — ${B}\n`,
    );
  });

  it('when the format is ndjson, then every input, failed or not, has a file holding its FileResult', async () => {
    const r = await cli(['results', ID, '--format', 'ndjson', '--out', dir], route);
    expect(r.code).toBe(2);
    const names = (await readdir(dir)).sort();
    expect(names).toEqual(['4.ndjson', 'dup-2.ndjson', 'dup-3.ndjson', 'dup.ndjson', 'team_sync.ndjson']);
    const indexes = await Promise.all(
      names.map(async (n) => (JSON.parse(await readFile(join(dir, n), 'utf8')) as { index: number }).index),
    );
    expect(indexes.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(r.out).toContain('wrote 5 ndjson files (4 transcribed)');
  });

  it('when the job is still running, then finished transcripts are written, and the summary names failures and counts the rest', async () => {
    const some = [
      { index: 0, file_url: A, ref: null, status: 'completed', error: null },
      { index: 1, file_url: B, ref: null, status: 'failed', error: { code: 'bad_audio', message: 'unreadable' } },
      { index: 2, file_url: A, ref: null, status: 'submitted', error: null },
      { index: 3, file_url: B, ref: null, status: 'queued', error: null },
    ];
    const r = await cli(['results', ID, '--out', dir], (req) =>
      req.url.pathname.endsWith('/results')
        ? json(200, { data: some, next_cursor: null })
        : req.url.pathname.endsWith('/transcript')
          ? new Response('hello\n')
          : json(200, makeJob({ status: 'running', counts: { total: 4, completed: 1, failed: 1, submitted: 1, queued: 1 } })),
    );
    expect(r.code).toBe(2);
    expect(await readdir(dir)).toEqual(['0.txt']);
    expect(r.err).toBe(
      `3 of 4 files have no transcript (job ${ID} is still running; fetch again when it ends):\n  file 1 failed: bad_audio: unreadable — ${B}\n  and 2 not finished yet\n`,
    );
  });

  it('when every file is transcribed, then it exits 0 and prints no summary', async () => {
    const ok = files.filter((f) => f.status === 'completed').map((f, index) => ({ ...f, index }));
    const r = await cli(['results', ID, '--format', 'txt', '--out', dir], (req) =>
      req.url.pathname.endsWith('/results')
        ? json(200, { data: ok, next_cursor: null })
        : req.url.pathname.endsWith('/transcript')
          ? new Response('hello\n')
          : json(200, makeJob({ counts: { total: 4, completed: 4 } })),
    );
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });
});

describe('runCli help and version', () => {
  it('when --help, then it prints usage with the exit codes and exits 0', async () => {
    const r = await cli(['--help'], () => json(200, {}));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Exit codes:');
    expect(r.out).toContain('BATCHSCRIBE_TOKEN');
  });

  it('when --version, then it prints the package version', async () => {
    const r = await cli(['--version'], () => json(200, {}));
    expect(r.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
