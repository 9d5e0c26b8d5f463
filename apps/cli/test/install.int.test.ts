import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT, runCliProcess, runProcess } from './cli-process.js';
import { json, makeJob, problem, serveFakeApi, type Recorded } from './fake-api.js';
import { serveUploadApi, UPLOAD_TOKEN } from './upload-api.js';
import { noise, writeZip } from './zip-fixture.js';

// The CLI as users get it: built by `pnpm build`, packed, installed globally into a private
// prefix, run from a directory outside the repository. Its API is the fake one over loopback.

const CLI_DIR = join(REPO_ROOT, 'apps/cli');
const ID = 'job_01jd0000000000000000000000';
const A = 'https://media.example.com/a.wav';
const B = 'https://media.example.com/b.wav';

let api: Awaited<ReturnType<typeof serveFakeApi>>;
let work: string;
let userDir: string;

const route = (req: Recorded) => {
  if (req.headers.authorization !== 'Bearer tok-from-profile' && req.headers.authorization !== 'Bearer tok') {
    return problem(401, 'unauthorized', 'The bearer token is not valid.');
  }
  if (req.method === 'POST' && req.url.pathname === '/v1/jobs') {
    const n = (req.body as { file_urls: string[] }).file_urls.length;
    return json(202, makeJob({ status: 'queued', counts: { total: n, completed: 0, queued: n } }));
  }
  if (req.url.pathname === `/v1/jobs/${ID}`) return json(200, makeJob());
  return problem(404, 'not-found', `No route for ${req.method} ${req.url.pathname}.`);
};

beforeAll(async () => {
  api = await serveFakeApi(route);
  work = await mkdtemp(join(tmpdir(), 'bs-cli-install-'));
  // The user's own directory, outside the repository, with a relative path to a URL list.
  userDir = join(work, 'home', 'meetings');
  await mkdir(userDir, { recursive: true });
  await writeFile(join(userDir, 'urls.txt'), `# November\n${A}  # standup\n${B}\n`);
});

afterAll(async () => {
  await api?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed and installed batchscribe', () => {
  let bin: string;

  beforeAll(async () => {
    const build = await runProcess('pnpm', ['build'], { cwd: CLI_DIR, env: {}, timeoutMs: 180_000 });
    expect(build.code).toBe(0);
    const pack = await runProcess('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {
      cwd: CLI_DIR,
      env: {},
      timeoutMs: 60_000,
    });
    expect(pack.code).toBe(0);
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const prefix = join(work, 'prefix');
    const install = await runProcess(
      'npm',
      ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(work, tarball!)],
      { cwd: work, env: {}, timeoutMs: 120_000 },
    );
    expect(install).toMatchObject({ code: 0 });
    bin = join(prefix, 'bin', 'batchscribe');
  }, 400_000);

  it('when built, then dist/batchscribe.mjs is one executable file that runs with node alone', async () => {
    const bundle = join(CLI_DIR, 'dist', 'batchscribe.mjs');
    expect((await stat(bundle)).mode & 0o111).not.toBe(0);
    const run = await runProcess(process.execPath, [bundle, '--version'], { cwd: work, env: {} });
    expect(run).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });

  it('when the tarball is installed, then it brought no dependencies: everything is in the bundle', async () => {
    const installed = join(work, 'prefix', 'lib', 'node_modules', '@batchscribe', 'cli');
    expect((await readdir(installed)).sort()).toEqual(['dist', 'package.json']);
    expect(await readdir(join(installed, 'dist'))).toContain('batchscribe.mjs');
  });

  it('when batchscribe --help runs from PATH, then it prints the commands and exits 0', async () => {
    const run = await runProcess('batchscribe', ['--help'], {
      cwd: userDir,
      env: { PATH: `${join(work, 'prefix', 'bin')}:${process.env.PATH ?? ''}` },
    });
    expect(run.code).toBe(0);
    for (const command of ['submit', 'status', 'results', 'transcript', 'delete', 'schedules', 'usage', 'config']) {
      expect(run.stdout).toContain(command);
    }
  });

  it('when a token is stored in a profile, then the installed CLI uses it, from another directory, with a relative file', async () => {
    const configHome = join(work, 'config');
    const set = await runProcess(bin, ['config', 'set', '--profile', 'fake', 'url', api.url, 'token', '-'], {
      cwd: userDir,
      env: { XDG_CONFIG_HOME: configHome },
      stdin: 'tok-from-profile\n',
    });
    expect(set.code).toBe(0);
    expect((await stat(join(configHome, 'batchscribe', 'config.json'))).mode & 0o777).toBe(0o600);
    api.requests.length = 0;
    const submit = await runProcess(bin, ['--profile', 'fake', 'submit', 'urls.txt'], {
      cwd: userDir,
      env: { XDG_CONFIG_HOME: configHome },
    });
    expect(submit).toMatchObject({ code: 0, stdout: `${ID}\n` });
    expect(api.requests[0]).toMatchObject({ method: 'POST', body: { file_urls: [A, B] } });
    expect(api.requests[0]!.headers.authorization).toBe('Bearer tok-from-profile');
    const status = await runProcess(bin, ['status', ID, '--profile', 'fake'], { cwd: userDir, env: { XDG_CONFIG_HOME: configHome } });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('status:    completed');
  });
});

describe('the installed batchscribe uploading a folder and a zip', () => {
  it('when a folder and a zip are submitted, then the bundle streams them to the tus endpoint and the job names every file', async () => {
    const uploads = await serveUploadApi(join(work, 'tus-store'));
    try {
      await mkdir(join(userDir, 'rec', '2026'), { recursive: true });
      await writeFile(join(userDir, 'rec', '2026', 'a.m4a'), noise(70_000, 1));
      await writeZip(join(userDir, 'calls.zip'), [{ name: 'x/b.wav', data: noise(90_000, 2), compress: true }]);
      const run = await runProcess(join(work, 'prefix', 'bin', 'batchscribe'), ['submit', 'rec', 'calls.zip', '--resume'], {
        cwd: userDir,
        env: { BATCHSCRIBE_URL: uploads.url, BATCHSCRIBE_TOKEN: UPLOAD_TOKEN, XDG_CACHE_HOME: join(work, 'cache') },
      });
      expect(run.code).toBe(0);
      expect(uploads.jobs.map((j) => j.body.files.map((f) => f.ref))).toEqual([['2026/a.m4a', 'x/b.wav']]);
      for (const f of uploads.jobs[0]!.body.files)
        expect(await uploads.upload(f.upload_id!)).toMatchObject({ offset: f.ref === 'x/b.wav' ? 90_000 : 70_000 });
    } finally {
      await uploads.close();
    }
  });
});

describe('batchscribe run from outside the repository', () => {
  it('when pnpm -C <repo> cli submit urls.txt runs in the user’s directory, then urls.txt is read from there', async () => {
    api.requests.length = 0;
    const run = await runProcess('pnpm', ['-C', REPO_ROOT, '-s', 'cli', 'submit', 'urls.txt'], {
      cwd: userDir,
      env: { BATCHSCRIBE_URL: api.url, BATCHSCRIBE_TOKEN: 'tok' },
      timeoutMs: 60_000,
    });
    expect(run).toMatchObject({ code: 0, stdout: `${ID}\n` });
    expect(api.requests.map((r) => r.body)).toEqual([{ file_urls: [A, B] }]);
  });

  it('when the CLI process runs with its working directory (and INIT_CWD) elsewhere, then relative inputs and outputs are taken from there', async () => {
    api.requests.length = 0;
    const env = { BATCHSCRIBE_URL: api.url, BATCHSCRIBE_TOKEN: 'tok', INIT_CWD: userDir };
    const run = await runCliProcess(['submit', 'urls.txt'], { cwd: userDir, env });
    expect(run).toMatchObject({ code: 0, stdout: `${ID}\n` });
    expect(api.requests.map((r) => r.body)).toEqual([{ file_urls: [A, B] }]);
    const missing = await runCliProcess(['submit', 'nope.txt'], { cwd: userDir, env });
    expect(missing).toMatchObject({ code: 1, stderr: 'batchscribe: cannot read nope.txt: no such file or directory\n' });
  });
});
