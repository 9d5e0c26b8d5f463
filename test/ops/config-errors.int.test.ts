import { describe, expect, it } from '@jest/globals';
import { spawnTs } from '../../scripts/lib/processes.js';

/*
 * The real entry points started with a broken environment: each must stop at once, exit
 * non-zero, and say on stderr, one line per problem, which variable is wrong and why — no
 * stack trace, no half-started process.
 */

const API = 'apps/api/src/main.ts';
const WORKER = 'apps/worker/src/main.ts';

/** Variables the harness may have set that would hide the problems under test ('' = unset). */
const CLEAN: Record<string, string> = { API_KEYS: '', AUTH_DISABLED: '', ADMIN_TOKEN: '', FOXAPI_API_KEY: '', PORT: '', LOG_LEVEL: 'info' };

async function runToExit(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawnTs(entry, { ...CLEAN, ...env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return { code, stderr, stdout };
}

/** The `  - VARIABLE: message` lines, by variable. */
function problems(stderr: string): Map<string, string> {
  return new Map(
    stderr
      .split('\n')
      .map((line) => /^\s+- ([A-Z_]+): (.+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

function expectCleanFailure(
  run: { code: number | null; stderr: string; stdout: string },
  app: string,
  expected: Record<string, RegExp>,
): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines[0]).toBe(`${app}: invalid configuration:`);
  // One line per problem, and nothing else: no stack trace, no log line.
  expect(lines).toHaveLength(Object.keys(expected).length + 1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).toBe('');
  const found = problems(run.stderr);
  expect([...found.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [variable, message] of Object.entries(expected))
    expect(`${variable}: ${found.get(variable)}`).toMatch(new RegExp(`^${variable}: .*${message.source}`));
}

describe('configuration errors stop the process with one clear line per problem', () => {
  it('when the api gets PORT=abc, no API_KEYS, a short ADMIN_TOKEN and a non-redis REDIS_URL, then it names all four at once and exits 1', async () => {
    const run = await runToExit(API, { PORT: 'abc', ADMIN_TOKEN: 'short', REDIS_URL: 'http://localhost:6379' });
    expectCleanFailure(run, 'batchscribe-api', {
      PORT: /must be a number/,
      API_KEYS: /is required/,
      ADMIN_TOKEN: /at least 8 characters/,
      REDIS_URL: /redis:\/\//,
    });
  });

  it('when the api gets malformed API_KEYS and a boolean that is not one, then it names both and exits 1', async () => {
    const run = await runToExit(API, { API_KEYS: 'no-colon-here', ADMIN_READ_ONLY: 'yes' });
    expectCleanFailure(run, 'batchscribe-api', { API_KEYS: /tenant:token/, ADMIN_READ_ONLY: /"true" or "false"/ });
  });

  it('when the worker gets no FOXAPI_API_KEY, FOXAPI_MAX_RPS=-1, WORKER_METRICS_PORT=70000 and POLL_MIN_MS above POLL_MAX_MS, then it names all four and exits 1', async () => {
    const run = await runToExit(WORKER, { FOXAPI_MAX_RPS: '-1', WORKER_METRICS_PORT: '70000', POLL_MIN_MS: '5000', POLL_MAX_MS: '1000' });
    expectCleanFailure(run, 'batchscribe-worker', {
      FOXAPI_API_KEY: /is required/,
      FOXAPI_MAX_RPS: /greater than 0/,
      WORKER_METRICS_PORT: /at most 65535/,
      POLL_MIN_MS: /must not exceed POLL_MAX_MS/,
    });
  });

  it('when the worker and the api get TENANT_BUDGETS with hours that are not a number, then each names it and exits 1', async () => {
    const [worker, api] = await Promise.all([
      runToExit(WORKER, { FOXAPI_API_KEY: 'sk-x', TENANT_BUDGETS: 'acme:lots' }),
      runToExit(API, { AUTH_DISABLED: 'true', TENANT_BUDGETS: 'acme:lots' }),
    ]);
    expectCleanFailure(worker, 'batchscribe-worker', { TENANT_BUDGETS: /tenant:hours pairs/ });
    expectCleanFailure(api, 'batchscribe-api', { TENANT_BUDGETS: /tenant:hours pairs/ });
  });
});
