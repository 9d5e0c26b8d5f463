import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '../../scripts/lib/processes.js';

/*
 * The root package.json's run scripts, each run as pnpm runs it (its command, from the
 * directory holding package.json), in a scratch directory that holds its own .env and links to
 * this repository's code. The .env carries a bad value, so each process stops at once naming
 * it: proof that it read the file, without starting anything.
 */

const SCRIPTS = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Variables the harness may have set: removed, since any real value (even empty) wins over the file. */
const UNSET = [
  'API_KEYS',
  'AUTH_DISABLED',
  'PORT',
  'LOG_LEVEL',
  'FOXAPI_API_KEY',
  'FOXAPI_MAX_INFLIGHT_TASKS',
  'SIM_PORT',
  'SIM_FAIL_RATE',
];

let scratch: string | undefined;
afterEach(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

function scratchDir(dotenv: string | null): string {
  scratch = mkdtempSync(join(tmpdir(), 'bs-env-file-'));
  for (const dir of ['apps', 'packages', 'node_modules']) symlinkSync(join(REPO_ROOT, dir), join(scratch, dir));
  if (dotenv !== null) writeFileSync(join(scratch, '.env'), dotenv);
  return scratch;
}

async function runScript(name: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const command = SCRIPTS[name];
  if (!command) throw new Error(`package.json has no script ${name}`);
  const base: Record<string, string | undefined> = { ...process.env };
  for (const name of UNSET) delete base[name];
  const child = spawn('sh', ['-c', command], {
    cwd,
    env: { ...base, ...env, PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return { code, output };
}

const built = (app: string) => existsSync(join(REPO_ROOT, 'apps', app, 'dist', 'main.js'));

describe('run scripts read .env', () => {
  it('when start:* and dev:* run, then they load .env from the directory they run in, and they run the same way', () => {
    for (const app of ['api', 'worker']) {
      expect(SCRIPTS[`start:${app}`]).toBe(`node --env-file-if-exists=.env apps/${app}/dist/main.js`);
      expect(SCRIPTS[`dev:${app}`]).toBe(`tsx --env-file-if-exists=.env --conditions=source apps/${app}/src/main.ts`);
    }
  });

  it.each(['dev:api', ...(built('api') ? ['start:api'] : [])])(
    'when %s runs next to a .env, then it reads the file, and a variable of the real environment wins over it',
    async (script) => {
      const cwd = scratchDir('API_KEYS=demo:demo-token\nPORT=not-a-port\nLOG_LEVEL=chatty\n');
      const run = await runScript(script, cwd, { LOG_LEVEL: 'info' });
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/PORT: must be a number/);
      // API_KEYS came from the file (else it would be reported missing); LOG_LEVEL from the real environment.
      expect(run.output).not.toMatch(/API_KEYS|LOG_LEVEL/);
    },
  );

  it.each(['dev:worker', ...(built('worker') ? ['start:worker'] : [])])(
    'when %s runs next to a .env, then it reads the file',
    async (script) => {
      const cwd = scratchDir('FOXAPI_API_KEY=sk-from-file\nFOXAPI_MAX_INFLIGHT_TASKS=0\n');
      const run = await runScript(script, cwd, {});
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/FOXAPI_MAX_INFLIGHT_TASKS: must be at least 1/);
      expect(run.output).not.toMatch(/FOXAPI_API_KEY/);
    },
  );

  it('when sim runs next to a .env, then it reads the file, and the real environment wins over it', async () => {
    const cwd = scratchDir('SIM_PORT=not-a-port\nSIM_FAIL_RATE=7\n');
    const run = await runScript('sim', cwd, { SIM_FAIL_RATE: '0.5' });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/invalid simulator environment/);
    expect(run.output).toMatch(/SIM_PORT/);
    expect(run.output).not.toMatch(/SIM_FAIL_RATE/);
  });

  it('when there is no .env, then the scripts start without it (the real environment alone)', async () => {
    const cwd = scratchDir(null);
    const run = await runScript('dev:api', cwd, { PORT: 'not-a-port', API_KEYS: 'demo:demo-token' });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/PORT: must be a number/);
    // Node notes the missing file and carries on; nothing fails for it.
    expect(run.output).not.toMatch(/ENOENT|no such file/i);
    expect(run.output).not.toMatch(/API_KEYS/);
  });
});
