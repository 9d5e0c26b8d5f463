import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Runs `pnpm sim`'s entry point and resolves with its first log line. */
async function firstLine(env: Record<string, string>): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(`${ROOT}node_modules/.bin/tsx`, ['--conditions=source', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [text] = (await once(lines, 'line')) as [string];
  return { child, line: JSON.parse(text) as Record<string, unknown> };
}

describe('pnpm sim start line', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child?.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('when started with a few SIM_* variables, then it prints the key, the port and every knob in force', async () => {
    const started = await firstLine({
      SIM_PORT: '0',
      SIM_API_KEYS: 'sk-line',
      SIM_TRANSCRIPT_MINUTES: '60',
      SIM_MAX_RPS: '25',
      SIM_UPLOAD_CAPACITY_BYTES: '1000000',
      SIM_FETCH_MEDIA: 'true',
    });
    child = started.child;
    const { line } = started;

    expect(line.msg).toBe('foxapi simulator listening');
    expect(line.apiKeys).toEqual(['sk-line']);
    expect(line.port).toEqual(expect.any(Number));
    expect(line.port).not.toBe(0);
    expect(line.url).toBe(`http://127.0.0.1:${String(line.port)}`);
    expect(line.knobs).toEqual({
      resultShape: 'dashscope',
      taskDurationMs: { min: 3000, max: 3000 },
      estimatedTimeNoise: 0,
      latencyMs: 0,
      maxRps: 25,
      failRate: 0,
      seed: 1,
      faults: [],
      publicBaseUrl: null,
      transcriptMinutes: 60,
      uploadCapacityBytes: 1_000_000,
      fetchMedia: true,
      fetchMediaTimeoutMs: 5000,
    });
    const health = await fetch(`${String(line.url)}/healthz`);
    expect(health.status).toBe(200);
  });
});
