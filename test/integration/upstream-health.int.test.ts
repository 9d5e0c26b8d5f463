import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createFoxapiSimulator, type FoxapiSimulator } from '@batchscribe/foxapi-sim';
import type { Job } from '@batchscribe/shared';
import { Stack, isTerminal, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/*
 * foxapi that cannot be reached (a closed port) or that refuses the worker's key (the
 * simulator checks keys): what the worker's start check says, what /readyz and the Job show,
 * and that both clear once foxapi answers.
 */

interface Readyz {
  status: string;
  checks: { upstream: string };
}

let stack: Stack | undefined;
let lateSim: FoxapiSimulator | undefined;
afterEach(async () => {
  await stack?.stop();
  await lateSim?.close();
  stack = undefined;
  lateSim = undefined;
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function readyz(s: Stack, query = ''): Promise<{ status: number; body: Readyz }> {
  const res = await s.request<Readyz>('GET', `/readyz${query}`, { token: null });
  return { status: res.status, body: res.body };
}

describe('upstream health', () => {
  it('when foxapi is unreachable, then the start check says so, /readyz is degraded, the job waits with upstream_unreachable, and all clears once foxapi answers', async () => {
    const port = await closedPort();
    stack = await Stack.start({
      workerEnv: { FOXAPI_BASE_URL: `http://127.0.0.1:${port}`, FOXAPI_BACKOFF_BASE_MS: '200', FOXAPI_BACKOFF_MAX_MS: '400' },
    });
    const s = stack;

    expect(await s.workers[0]!.checkUpstream()).toEqual({
      code: 'upstream_unreachable',
      message: expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED 127\\.0\\.0\\.1:${port}`)) as unknown as string,
    });
    const degraded = await readyz(s);
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.checks.upstream).toMatch(/^degraded: upstream_unreachable: .*ECONNREFUSED/);
    // A probe that wants to act on it asks strictly.
    const strict = await readyz(s, '?strict');
    expect(strict.status).toBe(503);
    expect(JSON.stringify(strict.body)).toMatch(/upstream: degraded: upstream_unreachable/);

    const job = await s.submit({ file_urls: urls(3, 'unreachable') });
    const waiting = await s.waitForJob(job.id, (j) => j.waiting_reason !== null, 10_000);
    expect(waiting).toMatchObject({ status: 'queued', counts: { queued: 3 }, waiting_reason: { code: 'upstream_unreachable' } });
    expect(waiting.waiting_reason?.message).toMatch(/unreachable.*ECONNREFUSED/);
    const listed = await s.request<{ data: Job[] }>('GET', '/v1/jobs?limit=1');
    expect(listed.body.data[0]?.waiting_reason?.code).toBe('upstream_unreachable');

    // foxapi comes up on that port: the held submits go out, and the problem is gone.
    lateSim = createFoxapiSimulator({ taskDurationMs: 200 });
    await lateSim.listen(port);
    const done = await s.waitForJob(job.id, isTerminal, 20_000);
    expect(done).toMatchObject({ status: 'completed', waiting_reason: null });
    expect((await readyz(s)).body).toMatchObject({ status: 'ready', checks: { upstream: 'ok' } });
    expect((await readyz(s, '?strict')).status).toBe(200);
  });

  it('when foxapi comes back while no job runs, then the heartbeat asks it again and /readyz is ready without waiting for a job', async () => {
    const port = await closedPort();
    stack = await Stack.start({ workerEnv: { FOXAPI_BASE_URL: `http://127.0.0.1:${port}` } });
    const s = stack;
    expect(await s.workers[0]!.checkUpstream()).toMatchObject({ code: 'upstream_unreachable' });
    expect((await readyz(s)).body.status).toBe('degraded');

    lateSim = createFoxapiSimulator();
    await lateSim.listen(port);
    await waitFor(async () => ((await readyz(s)).body.status === 'ready' ? true : undefined), { timeoutMs: 10_000, what: '/readyz ready' });
    expect(lateSim.stats().submissions).toBe(0);
  });

  it('when the worker has a wrong key, then its start check says so at once and /readyz is degraded with upstream_auth', async () => {
    stack = await Stack.start({ workerEnv: { FOXAPI_API_KEY: 'sk-not-the-key' } });
    const s = stack;

    expect(await s.workers[0]!.checkUpstream()).toMatchObject({ code: 'upstream_auth' });
    const res = await readyz(s);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'degraded',
      checks: { upstream: expect.stringMatching(/^degraded: upstream_auth: .*401/) as unknown },
    });
    // Nothing was submitted: the check reads a task that cannot exist.
    expect(s.sim.stats().submissions).toBe(0);
  });

  it('when foxapi answers and accepts the key, then the start check passes and /readyz is ready', async () => {
    stack = await Stack.start();
    expect(await stack.workers[0]!.checkUpstream()).toBeNull();
    expect((await readyz(stack)).body).toMatchObject({ status: 'ready', checks: { upstream: 'ok' } });
    expect(stack.sim.stats().submissions).toBe(0);
  });

  it('when the worker that saw the problem stops, then its report leaves /readyz', async () => {
    stack = await Stack.start({ workerEnv: { FOXAPI_API_KEY: 'sk-not-the-key' } });
    await stack.workers[0]!.checkUpstream();
    await waitFor(async () => ((await readyz(stack!)).body.status === 'degraded' ? true : undefined), { what: 'degraded' });
    await stack.workers[0]!.close();
    stack.workers = [];
    expect((await readyz(stack)).body.checks.upstream).toBe('ok');
  });
});
