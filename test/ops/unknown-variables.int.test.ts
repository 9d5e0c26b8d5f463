import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createFoxapiSimulator, type FoxapiSimulator } from '@batchscribe/foxapi-sim';
import { findUnknownVariables } from '@batchscribe/shared';
import { ENV_VARIABLES as API_VARIABLES, loadApiEnv } from '../../apps/api/src/env.js';
import { ENV_VARIABLES as WORKER_VARIABLES, loadWorkerEnv } from '../../apps/worker/src/env.js';
import { REPO_ROOT, spawnTs, stopProcess } from '../../scripts/lib/processes.js';
import { waitFor } from '../support/wait-for.js';

/*
 * A misspelled variable must not start a process silently on the default: the real entry
 * points warn about every variable with batchscribe's prefixes that neither app reads, naming
 * the variable meant. A variable of the other app (one .env serves both) is no typo.
 */

interface Line {
  msg?: string;
  variable?: string;
  suggestion?: string | null;
}

const children: ChildProcess[] = [];
let sim: FoxapiSimulator | undefined;
afterEach(async () => {
  for (const child of children.splice(0)) await stopProcess(child);
  await sim?.close();
  sim = undefined;
});

function start(entry: string, env: Record<string, string>): { lines: Line[] } {
  const lines: Line[] = [];
  const child = spawnTs(
    entry,
    { LOG_LEVEL: 'info', LOG_FORMAT: 'json', QUEUE_PREFIX: `uv${Date.now().toString(36)}`, ...env },
    {
      onLine: (line) => {
        try {
          lines.push(JSON.parse(line) as Line);
        } catch {
          lines.push({ msg: line });
        }
      },
    },
  );
  children.push(child);
  return { lines };
}

const warned = (lines: Line[]) => lines.filter((l) => l.variable !== undefined).map((l) => [l.variable, l.suggestion, l.msg]);

describe('unknown variables', () => {
  it('when the worker is started with FOXAPI_MAX_RSP and WORKER_CONCURENCY, then it warns naming FOXAPI_MAX_RPS and WORKER_CONCURRENCY, and not about the api’s variables', async () => {
    sim = createFoxapiSimulator();
    const { url } = await sim.listen(0);
    const worker = start('apps/worker/src/main.ts', {
      REDIS_URL: process.env.REDIS_URL!,
      FOXAPI_BASE_URL: url,
      FOXAPI_API_KEY: 'sk-sim',
      WORKER_METRICS_PORT: '0',
      FOXAPI_MAX_RSP: '5',
      WORKER_CONCURENCY: '4',
      INTAKE_RATE_LIMIT_PER_MIN: '30',
    });
    await waitFor(async () => (worker.lines.some((l) => l.msg === 'worker started') ? true : undefined), {
      timeoutMs: 30_000,
      what: 'worker started',
    });

    expect(warned(worker.lines)).toEqual([
      ['FOXAPI_MAX_RSP', 'FOXAPI_MAX_RPS', 'unknown variable FOXAPI_MAX_RSP is ignored: did you mean FOXAPI_MAX_RPS?'],
      ['WORKER_CONCURENCY', 'WORKER_CONCURRENCY', 'unknown variable WORKER_CONCURENCY is ignored: did you mean WORKER_CONCURRENCY?'],
    ]);
  });

  it('when the api is started with a misspelled variable of its own and a variable of the worker, then it warns only about the misspelling', async () => {
    const api = start('apps/api/src/main.ts', {
      REDIS_URL: process.env.REDIS_URL!,
      API_KEYS: 'demo:demo-token',
      PORT: '0',
      HOST: '127.0.0.1',
      INTAKE_RATE_LIMT_PER_MIN: '30',
      FOXAPI_MAX_RPS: '5',
      POLL_MAX_MS: '9000',
      FOXAPI_UNHEARD_OF_SETTING: '1',
    });
    await waitFor(async () => (api.lines.some((l) => l.msg === 'api listening') ? true : undefined), {
      timeoutMs: 30_000,
      what: 'api listening',
    });

    expect(warned(api.lines)).toEqual([
      ['FOXAPI_UNHEARD_OF_SETTING', null, 'unknown variable FOXAPI_UNHEARD_OF_SETTING is ignored: no batchscribe app reads it'],
      [
        'INTAKE_RATE_LIMT_PER_MIN',
        'INTAKE_RATE_LIMIT_PER_MIN',
        'unknown variable INTAKE_RATE_LIMT_PER_MIN is ignored: did you mean INTAKE_RATE_LIMIT_PER_MIN?',
      ],
    ]);
  });

  it('when .env.example is used as it is, then both apps accept it, every variable in it is known, and its token is the one the README uses', () => {
    const example = parseEnv(readFileSync(join(REPO_ROOT, '.env.example'), 'utf8'));
    expect(() => loadApiEnv(example)).not.toThrow();
    expect(() => loadWorkerEnv(example)).not.toThrow();
    expect(findUnknownVariables(example, [...API_VARIABLES, ...WORKER_VARIABLES])).toEqual([]);

    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const tokens = [...readme.matchAll(/\b(?:TOKEN|BATCHSCRIBE_TOKEN)=([\w-]+)/g)].map((m) => m[1]);
    expect(tokens.length).toBeGreaterThan(0);
    const exampleTokens = (example.API_KEYS ?? '').split(',').map((pair) => pair.split(':')[1]);
    for (const token of new Set(tokens)) expect(exampleTokens).toContain(token);
  });
});
