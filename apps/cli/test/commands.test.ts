import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { runCli } from '../src/index.js';
import { fakeApi, json, makeJob, memoryIo, NO_CONFIG_HOME, problem, type Route } from './fake-api.js';

const ID = 'job_01jd0000000000000000000000';
const SCH = 'sch_01jd0000000000000000000000';
const A = 'https://media.example.com/a.wav';
const B = 'https://media.example.com/b.wav';

async function cli(argv: string[], route: Route, extra: Parameters<typeof memoryIo>[0] = {}) {
  const api = fakeApi(route);
  const mem = memoryIo({ fetch: api.fetch, ...extra });
  const code = await runCli(argv, mem.io);
  return { code, out: mem.out(), err: mem.err(), requests: api.requests };
}

const unrouted: Route = () => json(599, {});

function schedule(overrides: Record<string, unknown> = {}) {
  return {
    id: SCH,
    object: 'schedule',
    name: 'nightly',
    cron: '0 2 * * *',
    timezone: 'Europe/Berlin',
    manifest_url: 'https://files.example.com/manifest.txt',
    file_urls: null,
    job: {},
    created_at: '2026-11-01T10:00:00.000Z',
    next_run: '2026-11-03T01:00:00.000Z',
    last_run: null,
    last_error: null,
    ...overrides,
  };
}

describe('submit: every problem listed, with line numbers', () => {
  it('when 25 lines are bad, then stderr lists the first 20 with their lines, then how many more, and nothing is sent', async () => {
    const lines = [A, ...Array.from({ length: 25 }, (_, i) => `bad-${i}`)];
    const r = await cli(['submit', '-'], unrouted, { stdinText: lines.join('\n') });
    expect(r.code).toBe(1);
    expect(r.requests).toEqual([]);
    const err = r.err.split('\n');
    expect(err[0]).toBe('batchscribe: stdin: 25 lines are not valid; nothing was submitted:');
    expect(err[1]).toBe('  line 2: "bad-0" is not an http or https URL');
    expect(err[20]).toBe('  line 21: "bad-19" is not an http or https URL');
    expect(err[21]).toBe('  … and 5 more');
    expect(err).toHaveLength(23);
  });

  it('when the API lists several errors, then each is printed, named by its input line', async () => {
    const r = await cli(
      ['submit', '-'],
      () =>
        new Response(
          JSON.stringify({
            type: 'https://batchscribe.dev/problems/validation-error',
            title: 'Validation failed',
            status: 422,
            detail: 'The job is invalid: file_urls.1 must be at most 2048 characters (and 1 more).',
            errors: [
              { path: 'file_urls.1', message: 'must be at most 2048 characters' },
              { path: 'file_urls.2', message: 'host is not allowed' },
              { path: 'language_hints', message: 'is not supported by paraformer-8k-v2' },
            ],
          }),
          { status: 422, headers: { 'content-type': 'application/problem+json' } },
        ),
      { stdinText: `# list\n${A}\n\n${B}\n${A}?x\n` },
    );
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      [
        'batchscribe: 422 validation-error: The job is invalid: file_urls.1 must be at most 2048 characters (and 1 more).',
        '  stdin line 4: must be at most 2048 characters',
        '  stdin line 5: host is not allowed',
        '  language_hints: is not supported by paraformer-8k-v2',
        '',
      ].join('\n'),
    );
  });

  it('when a files entry is refused for its ref, then the line and the field are named', async () => {
    const r = await cli(
      ['submit', '-', '--input-format', 'csv'],
      () =>
        new Response(
          JSON.stringify({
            type: 'x/validation-error',
            status: 422,
            detail: 'invalid',
            errors: [{ path: 'files.0.ref', message: 'too long' }],
          }),
          { status: 422, headers: { 'content-type': 'application/problem+json' } },
        ),
      { stdinText: `${A},${'r'.repeat(300)}\n` },
    );
    expect(r.err).toBe('batchscribe: 422 validation-error: invalid\n  stdin line 1 (ref): too long\n');
  });

  it('when --reuse is given, then the body asks for reuse', async () => {
    const r = await cli(['submit', '-', '--reuse'], () => json(202, makeJob({ status: 'queued' })), { stdinText: A });
    expect(r.code).toBe(0);
    expect(r.requests[0]!.body).toEqual({ file_urls: [A], reuse: true });
  });
});

describe('delete', () => {
  it('when the job is finished, then it sends DELETE and says so', async () => {
    const r = await cli(['delete', ID], () => new Response(null, { status: 204 }));
    expect(r).toMatchObject({ code: 0, out: `${ID} deleted\n` });
    expect(r.requests.map((q) => [q.method, q.url.pathname])).toEqual([['DELETE', `/v1/jobs/${ID}`]]);
  });

  it('when the job still runs, then the 409 is the error and exit 1', async () => {
    const r = await cli(['delete', ID], () => problem(409, 'conflict', 'The job is still running; cancel it first.'));
    expect(r).toMatchObject({ code: 1, err: 'batchscribe: 409 conflict: The job is still running; cancel it first.\n' });
  });
});

describe('one transcript to stdout', () => {
  const route: Route = (req) =>
    req.url.pathname === `/v1/jobs/${ID}/files/2/transcript`
      ? new Response(`1\n00:00:00,000 --> 00:00:01,500\nhello (${req.url.searchParams.get('format')})\n`)
      : problem(404, 'not-found', 'No transcript for this file yet.');

  it('when transcript ID N --format srt, then stdout is that file’s SRT', async () => {
    const r = await cli(['transcript', ID, '2', '--format', 'srt'], route);
    expect(r).toMatchObject({ code: 0, out: '1\n00:00:00,000 --> 00:00:01,500\nhello (srt)\n', err: '' });
  });

  it('when results ID --format vtt --index N, then it is the same', async () => {
    const r = await cli(['results', ID, '--format', 'vtt', '--index', '2'], route);
    expect(r).toMatchObject({ code: 0, out: '1\n00:00:00,000 --> 00:00:01,500\nhello (vtt)\n' });
  });

  it('when the file has no transcript, then the 404 is the error', async () => {
    const r = await cli(['transcript', ID, '0'], route);
    expect(r).toMatchObject({ code: 1, err: 'batchscribe: 404 not-found: No transcript for this file yet.\n' });
  });

  it('when results has neither --out nor --index, or both, or the index is not a number, then it says what to give', async () => {
    expect((await cli(['results', ID], route)).err).toBe(
      'batchscribe: give --out DIR to write every transcript, or --index N to print one\n',
    );
    expect((await cli(['results', ID, '--out', 'x', '--index', '1'], route)).err).toMatch(/not both/);
    expect((await cli(['transcript', ID, 'two'], route)).code).toBe(1);
  });
});

describe('schedules', () => {
  it('when listed, then a table shows each schedule’s cron, zone, next and last run', async () => {
    const r = await cli(['schedules', 'list'], () =>
      json(200, {
        data: [
          schedule(),
          schedule({
            id: 'sch_2',
            name: 'weekly',
            last_run: { at: '2026-11-02T01:00:00.000Z', job_id: null, error: 'manifest unreachable' },
          }),
        ],
        next_cursor: null,
      }),
    );
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CRON\s+TIMEZONE\s+NEXT RUN\s+LAST RUN\s+NAME$/);
    expect(lines[1]).toMatch(new RegExp(`^${SCH}\\s+0 2 \\* \\* \\*\\s+Europe/Berlin\\s+2026-11-03T01:00:00.000Z\\s+-\\s+nightly$`));
    expect(lines[2]).toContain('2026-11-02T01:00:00.000Z no job: manifest unreachable');
  });

  it('when created from a manifest URL with job options, then it POSTs them and prints the id', async () => {
    const r = await cli(
      [
        'schedules',
        'create',
        '--name',
        'nightly',
        '--cron',
        '0 2 * * *',
        '--timezone',
        'Europe/Berlin',
        '--manifest-url',
        'https://files.example.com/manifest.txt',
        '--model',
        'paraformer-8k-v2',
        '--lang',
        'zh,en',
        '--job-name',
        'nightly archive',
        '--reuse',
      ],
      () => json(201, schedule()),
    );
    expect(r).toMatchObject({ code: 0, out: `${SCH}\n` });
    expect(r.requests[0]).toMatchObject({ method: 'POST' });
    expect(r.requests[0]!.url.pathname).toBe('/v1/schedules');
    expect(r.requests[0]!.body).toEqual({
      name: 'nightly',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      manifest_url: 'https://files.example.com/manifest.txt',
      job: { model: 'paraformer-8k-v2', language_hints: ['zh', 'en'], name: 'nightly archive', reuse: true },
    });
  });

  it('when created from a file, then its URLs are checked line by line first and sent as file_urls', async () => {
    const bad = await cli(['schedules', 'create', '--name', 'n', '--cron', '0 2 * * *', '--file', '-'], unrouted, {
      stdinText: `${A}\nnope\n${B} # ok\nftp://x\n`,
    });
    expect(bad).toMatchObject({ code: 1, requests: [] });
    expect(bad.err).toBe(
      'batchscribe: stdin: 2 lines are not valid; nothing was submitted:\n  line 2: "nope" is not an http or https URL\n  line 4: "ftp://x" is not an http or https URL\n',
    );
    const good = await cli(['schedules', 'create', '--name', 'n', '--cron', '0 2 * * *', '--file', '-'], () => json(201, schedule()), {
      stdinText: `${A}\n${B} # ok\n`,
    });
    expect(good.requests[0]!.body).toEqual({ name: 'n', cron: '0 2 * * *', file_urls: [A, B] });
  });

  it('when neither or both of --manifest-url and --file are given, then it says to give one', async () => {
    const r = await cli(['schedules', 'create', '--name', 'n', '--cron', '* * * * *'], unrouted);
    expect(r).toMatchObject({ code: 1, requests: [] });
    expect(r.err).toMatch(/^batchscribe: give either --manifest-url URL .* or --file FILE/);
  });

  it('when run, then stdout is the id of the job it made; with --wait it follows that job and exits by its outcome', async () => {
    const made = makeJob({ status: 'queued', counts: { total: 2, completed: 0, queued: 2 } });
    const r = await cli(['schedules', 'run', SCH], () => json(202, made));
    expect(r).toMatchObject({ code: 0, out: `${ID}\n` });
    expect(r.requests[0]!.url.pathname).toBe(`/v1/schedules/${SCH}/run`);
    const waited = await cli(['schedules', 'run', SCH, '--wait', '--no-progress'], (req) =>
      req.method === 'POST'
        ? json(202, made)
        : req.url.pathname.endsWith('/events')
          ? problem(404, 'not-found', 'No route for GET /events.')
          : json(200, makeJob({ status: 'completed_with_errors', counts: { total: 2, completed: 1, failed: 1 } })),
    );
    expect(waited.code).toBe(2);
    expect(waited.err).toMatch(/completed_with_errors: 1 of 2 files transcribed/);
  });

  it('when a fire makes no job, then the problem is the error', async () => {
    const r = await cli(['schedules', 'run', SCH], () => problem(422, 'validation-error', 'The manifest could not be fetched: HTTP 404.'));
    expect(r).toMatchObject({ code: 1, err: 'batchscribe: 422 validation-error: The manifest could not be fetched: HTTP 404.\n' });
  });

  it('when shown or deleted, then it GETs or DELETEs that schedule', async () => {
    const shown = await cli(['schedules', 'show', SCH], () => json(200, schedule()));
    expect(shown.out).toContain('cron:      0 2 * * * (Europe/Berlin)');
    expect(shown.out).toContain('files:     https://files.example.com/manifest.txt');
    const deleted = await cli(['schedules', 'delete', SCH], () => new Response(null, { status: 204 }));
    expect(deleted).toMatchObject({ code: 0, out: `${SCH} deleted\n` });
    expect(deleted.requests[0]).toMatchObject({ method: 'DELETE' });
  });
});

describe('usage', () => {
  const answer = {
    data: [
      { date: '2026-11-01', jobs: 2, files: 30, audio_seconds: 5400, billed_seconds: 5460, reused_files: 0 },
      { date: '2026-11-02', jobs: 1, files: 12, audio_seconds: 1830.4, billed_seconds: null, reused_files: 4 },
    ],
    budget: { month: '2026-11', hours: 100, used_hours: 2.008, remaining_hours: 97.992 },
  };

  it('when asked for a period, then it sends from and to and prints a table with totals and the budget', async () => {
    const r = await cli(['usage', '--from', '2026-11-01', '--to', '2026-11-30'], () => json(200, answer));
    expect(r.code).toBe(0);
    expect(r.requests[0]!.url.pathname).toBe('/v1/usage');
    expect(r.requests[0]!.url.search).toBe('?from=2026-11-01&to=2026-11-30');
    expect(r.out).toBe(
      [
        'DATE        JOBS  FILES  AUDIO    BILLED   REUSED',
        '2026-11-01  2     30     1:30:00  1:31:00  0',
        '2026-11-02  1     12     0:30:30  -        4',
        'total       3     42     2:00:30  1:31:00  4',
        'budget 2026-11: 2.01 of 100 hours used, 97.99 left',
        '',
      ].join('\n'),
    );
  });

  it('when no period is given, then the server’s default (this month) is asked for; --json prints the answer', async () => {
    const r = await cli(['usage', '--json'], () => json(200, answer));
    expect(r.requests[0]!.url.search).toBe('');
    expect(JSON.parse(r.out)).toEqual(answer);
  });

  it('when a day is not a real YYYY-MM-DD, or from is after to, then it says so before any request', async () => {
    for (const args of [
      ['--from', '2026-02-30'],
      ['--to', '2026-13-01'],
      ['--from', '1.11.2026'],
      ['--from', '2026-11-05', '--to', '2026-11-01'],
    ]) {
      const r = await cli(['usage', ...args], unrouted);
      expect(r).toMatchObject({ code: 1, requests: [] });
      expect(r.err).toMatch(/^batchscribe: --(from|to) /);
    }
  });
});

describe('connection: flags, environment, config file profiles', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'bs-cli-config-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const seen = (r: { requests: Array<{ url: URL; headers: Record<string, string> }> }) => ({
    url: r.requests[0]?.url.origin,
    auth: r.requests[0]?.headers.authorization,
  });
  const list: Route = () => json(200, { data: [], next_cursor: null });

  async function writeConfig(data: unknown): Promise<void> {
    await mkdir(join(home, 'batchscribe'), { recursive: true });
    await writeFile(join(home, 'batchscribe', 'config.json'), JSON.stringify(data), { mode: 0o600 });
  }

  it('when no token is set anywhere, then it says how to set one, and makes no request', async () => {
    const r = await cli(['list'], list, { env: { XDG_CONFIG_HOME: NO_CONFIG_HOME } });
    expect(r).toMatchObject({ code: 1, requests: [] });
    expect(r.err).toBe(
      'batchscribe: no token set: give --token, set BATCHSCRIBE_TOKEN, or store one with: batchscribe config set token -\n',
    );
  });

  it('when config set writes a profile, then the file is 0600 in XDG_CONFIG_HOME, the token came from stdin, and show never prints it', async () => {
    const env = { XDG_CONFIG_HOME: home };
    const set = await cli(['config', 'set', '--profile', 'prod', 'url', 'https://bs.example.com/', 'token', '-'], unrouted, {
      env,
      stdinText: 'tok-prod\n',
    });
    expect(set.code).toBe(0);
    const path = join(home, 'batchscribe', 'config.json');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'batchscribe'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ profiles: { prod: { url: 'https://bs.example.com', token: 'tok-prod' } } });
    const show = await cli(['config', 'show', '--profile', 'prod'], unrouted, { env });
    expect(show.out).toBe(`${path}\n* prod: url https://bs.example.com, token set\n`);
    expect(show.out + show.err).not.toContain('tok-prod');
    const used = await cli(['--profile', 'prod', 'list'], list, { env });
    expect(seen(used)).toEqual({ url: 'https://bs.example.com', auth: 'Bearer tok-prod' });
  });

  it('when a setting is in several places, then flags win over the environment, which wins over the profile, which wins over the default', async () => {
    await writeConfig({ profiles: { default: { url: 'http://profile.test', token: 'tok-profile' }, other: { token: 'tok-other' } } });
    const profileOnly = await cli(['list'], list, { env: { XDG_CONFIG_HOME: home } });
    expect(seen(profileOnly)).toEqual({ url: 'http://profile.test', auth: 'Bearer tok-profile' });
    const envToo = await cli(['list'], list, {
      env: { XDG_CONFIG_HOME: home, BATCHSCRIBE_URL: 'http://env.test', BATCHSCRIBE_TOKEN: 'tok-env' },
    });
    expect(seen(envToo)).toEqual({ url: 'http://env.test', auth: 'Bearer tok-env' });
    const flags = await cli(['list', '--url', 'http://flag.test', '--token', 'tok-flag'], list, {
      env: { XDG_CONFIG_HOME: home, BATCHSCRIBE_URL: 'http://env.test', BATCHSCRIBE_TOKEN: 'tok-env' },
    });
    expect(seen(flags)).toEqual({ url: 'http://flag.test', auth: 'Bearer tok-flag' });
    const byEnvProfile = await cli(['list'], list, { env: { XDG_CONFIG_HOME: home, BATCHSCRIBE_PROFILE: 'other' } });
    expect(seen(byEnvProfile)).toEqual({ url: 'http://127.0.0.1:3000', auth: 'Bearer tok-other' });
  });

  it('when the profile’s token is refused, then the error names the profile', async () => {
    await writeConfig({ profiles: { default: { url: 'http://profile.test', token: 'stale' } } });
    const r = await cli(['list'], () => problem(401, 'unauthorized', 'The bearer token is not valid.'), { env: { XDG_CONFIG_HOME: home } });
    expect(r.err).toBe('batchscribe: 401 unauthorized: The bearer token is not valid. (check the token from profile default)\n');
  });

  it('when --profile names a profile that is not there, then it lists the ones that are', async () => {
    await writeConfig({ profiles: { prod: { token: 't' } } });
    const r = await cli(['--profile', 'staging', 'list'], list, { env: { XDG_CONFIG_HOME: home } });
    expect(r).toMatchObject({ code: 1, requests: [] });
    expect(r.err).toMatch(/^batchscribe: no profile "staging" in .+config\.json \(profiles: prod\)/);
  });

  it('when the config file is not JSON or a profile url is not a URL, then the error names the file', async () => {
    await mkdir(join(home, 'batchscribe'), { recursive: true });
    await writeFile(join(home, 'batchscribe', 'config.json'), '{"profiles": ');
    const broken = await cli(['list'], list, { env: { XDG_CONFIG_HOME: home } });
    expect(broken.err).toMatch(new RegExp(`^batchscribe: ${join(home, 'batchscribe', 'config.json')} is not valid JSON`));
    await writeConfig({ profiles: { default: { url: 'localhost:3000', token: 't' } } });
    const badUrl = await cli(['list'], list, { env: { XDG_CONFIG_HOME: home } });
    expect(badUrl.err).toBe('batchscribe: the url of profile default must be an http or https URL: localhost:3000\n');
    const setBad = await cli(['config', 'set', 'url', 'ftp://x'], unrouted, { env: { XDG_CONFIG_HOME: home } });
    expect(setBad).toMatchObject({ code: 1, err: 'batchscribe: url must be an http or https URL: ftp://x\n' });
  });

  it('when config unset removes the token, then the profile keeps its url and the token is gone from the file', async () => {
    await writeConfig({ profiles: { default: { url: 'http://profile.test', token: 't' } } });
    const r = await cli(['config', 'unset', 'token'], unrouted, { env: { XDG_CONFIG_HOME: home } });
    expect(r.code).toBe(0);
    expect(JSON.parse(await readFile(join(home, 'batchscribe', 'config.json'), 'utf8'))).toEqual({
      profiles: { default: { url: 'http://profile.test' } },
    });
  });
});
