import { afterEach, describe, expect, it } from '@jest/globals';
import { audio, json, startSim, type RunningSim } from './sim-fixture.js';

interface ErrorBody {
  error: { message: string; type: string; code?: string };
}

describe('injected faults', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  it('when a submit fault has times 2 and Retry-After, then two submits get 429 with the header and the third passes', async () => {
    s = await startSim({ faults: [{ route: 'submit', status: 429, times: 2, retryAfterS: 7 }] });

    const first = await s.submit([audio('a.wav')]);
    const second = await s.submit([audio('a.wav')]);
    const third = await s.submit([audio('a.wav')]);

    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await json<ErrorBody>(first)).error.type).toBe('rate_limit_error');
    expect(s.sim.stats()).toMatchObject({ submissions: 1, rateLimited: 2, faultsInjected: 2 });
  });

  it.each([
    [500, 'server_error', undefined],
    [503, 'service_unavailable_error', undefined],
    [401, 'authentication_error', undefined],
    [402, 'insufficient_quota', undefined],
    [422, 'invalid_request_error', 'unsupported_advanced_options'],
  ])('when a poll fault answers %i, then the body has type %s', async (status, type, code) => {
    s = await startSim({ faults: [{ route: 'poll', status }] });
    const id = await s.submitTask([audio('a.wav')]);

    const res = await s.poll(id);

    expect(res.status).toBe(status);
    expect(res.headers.get('retry-after')).toBeNull();
    const body = await json<ErrorBody>(res);
    expect(body.error.type).toBe(type);
    expect(body.error.code).toBe(code);
    expect(s.sim.stats().pollsByTask[id]).toBe(0);
  });

  it('when a fault targets polls, then submits are untouched; when it targets any, then downloads fail too', async () => {
    s = await startSim({ taskDurationMs: 0 });
    s.sim.configure({ faults: [{ route: 'poll', status: 500, times: 1 }] });
    const id = await s.submitTask([audio('a.wav')]);
    expect((await s.poll(id)).status).toBe(500);
    const polled = await json<{ results: Array<{ transcription_url: string }> }>(await s.poll(id));

    s.sim.configure({ faults: [{ route: 'any', status: 503, times: 1 }] });
    const download = await fetch(polled.results[0]?.transcription_url ?? '');

    expect(download.status).toBe(503);
    expect((await fetch(polled.results[0]?.transcription_url ?? '')).status).toBe(200);
  });

  it('when createTaskAnyway is set, then the submit answers 500 yet the task exists and is billed', async () => {
    s = await startSim({
      taskDurationMs: 1_000,
      faults: [{ route: 'submit', status: 500, times: 1, createTaskAnyway: true }],
    });

    const res = await s.submit([audio('a.wav')]);
    await s.submitTask([audio('a.wav')]);

    expect(res.status).toBe(500);
    expect((await json<ErrorBody>(res)).error.type).toBe('server_error');
    const stats = s.sim.stats();
    expect(stats.submissions).toBe(2);
    expect(stats.submittedUrls).toEqual({ [audio('a.wav')]: 2 });
    expect(stats.duplicateSubmissions).toBe(1);
    expect(stats.tasks).toHaveLength(2);
  });

  it('when a fault has status 0, then the request hangs until the client aborts and close() still returns', async () => {
    s = await startSim({ faults: [{ route: 'submit', status: 0, createTaskAnyway: true }] });

    const hung = s.submit([audio('a.wav')], {});
    const outcome = await Promise.race([hung.then(() => 'answered'), new Promise((resolve) => setTimeout(resolve, 300, 'still waiting'))]);
    const stats = s.sim.stats();
    await s.close();

    expect(outcome).toBe('still waiting');
    await expect(hung).rejects.toThrow();
    expect(stats.submissions).toBe(1);
    expect(stats.byStatus).toEqual({ '0': 1 });
  });

  it('when a client aborts a hung request, then the next request is served normally', async () => {
    s = await startSim({ faults: [{ route: 'poll', status: 0, times: 1 }] });
    const id = await s.submitTask([audio('a.wav')]);

    await expect(s.api(`/v1/tasks/${id}`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    const next = await s.poll(id);

    expect(next.status).toBe(200);
  });

  it('when a fault has probability 0, then it never fires', async () => {
    s = await startSim({ faults: [{ route: 'any', status: 500, probability: 0 }] });

    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await s.submit([audio(`${i}.wav`)])).status);

    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(s.sim.stats().faultsInjected).toBe(0);
  });

  it('when a fault has probability 0.5, then roughly half of the requests fail', async () => {
    s = await startSim({ faults: [{ route: 'poll', status: 503, probability: 0.5 }] });
    const id = await s.submitTask([audio('a.wav')]);

    let failed = 0;
    for (let i = 0; i < 60; i++) if ((await s.poll(id)).status === 503) failed += 1;

    expect(failed).toBeGreaterThan(15);
    expect(failed).toBeLessThan(45);
  });
});

describe('maxRps cap', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  it('when requests exceed maxRps within one second, then the excess gets 429 without Retry-After', async () => {
    s = await startSim({ maxRps: 3 });

    const statuses: number[] = [];
    const retryAfter: Array<string | null> = [];
    for (let i = 0; i < 5; i++) {
      const res = await s.poll('task-unified-1-abcdefgh');
      statuses.push(res.status);
      retryAfter.push(res.headers.get('retry-after'));
    }

    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    expect(retryAfter).toEqual([null, null, null, null, null]);
    expect(s.sim.stats()).toMatchObject({ rateLimited: 2, requests: 5, byStatus: { '404': 3, '429': 2 } });
  });

  it('when the window slides past the oldest request, then new requests are admitted again', async () => {
    s = await startSim({ maxRps: 2 });

    await s.poll('task-unified-1-abcdefgh');
    s.clock.advance(600);
    await s.poll('task-unified-1-abcdefgh');
    const capped = await s.poll('task-unified-1-abcdefgh');
    s.clock.advance(400);
    const admitted = await s.poll('task-unified-1-abcdefgh');
    const cappedAgain = await s.poll('task-unified-1-abcdefgh');

    expect([capped.status, admitted.status, cappedAgain.status]).toEqual([429, 404, 429]);
  });

  it('when downloads exceed maxRps, then they are not capped', async () => {
    s = await startSim({ taskDurationMs: 0 });
    const id = await s.submitTask([audio('a.wav')]);
    const body = await json<{ results: Array<{ transcription_url: string }> }>(await s.poll(id));
    s.sim.configure({ maxRps: 1 });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(body.results[0]?.transcription_url ?? '')).status);

    expect(statuses).toEqual([200, 200, 200]);
    expect(s.sim.stats().downloads).toBe(3);
  });
});

describe('runtime configuration', () => {
  let s: RunningSim;
  afterEach(() => s.close());

  it('when configure() changes the result shape and removes the cap, then later tasks and requests follow', async () => {
    s = await startSim({ taskDurationMs: 0, maxRps: 1 });
    s.sim.configure({ resultShape: 'url', maxRps: undefined });

    const ids = [await s.submitTask([audio('a.wav')]), await s.submitTask([audio('b.wav')])];
    const results = await json<{ results: Array<Record<string, unknown>> }>(await s.poll(ids[1] ?? ''));

    expect(results.results[0]).toEqual({ url: expect.any(String), file_url: audio('b.wav') });
  });

  it('when configure() gets an invalid value, then it throws and keeps the old config', async () => {
    s = await startSim({ failRate: 0 });

    expect(() => s.sim.configure({ failRate: 2 })).toThrow(/failRate/);
    const id = await s.submitTask([audio('a.wav')]);
    s.clock.advance(3_000);
    const body = await json<{ results: Array<Record<string, unknown>> }>(await s.poll(id));
    expect(body.results[0]?.subtask_status).toBe('SUCCEEDED');
  });

  it('when POST /__sim/config adds a fault, then the next request gets it and the answer echoes the config', async () => {
    s = await startSim();

    const res = await fetch(`${s.url}/__sim/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: [{ route: 'submit', status: 402, times: 1 }], latencyMs: 0 }),
    });
    const submit = await s.submit([audio('a.wav')]);

    expect(res.status).toBe(200);
    expect((await json(res)).faults).toEqual([{ route: 'submit', status: 402, times: 1 }]);
    expect(submit.status).toBe(402);
    expect((await json<ErrorBody>(submit)).error.type).toBe('insufficient_quota');
  });

  it('when POST /__sim/config has a bad value, then it answers 400 and changes nothing', async () => {
    s = await startSim();

    const res = await fetch(`${s.url}/__sim/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resultShape: 'xml', maxRps: 1 }),
    });

    expect(res.status).toBe(400);
    expect((await json<ErrorBody>(res)).error.message).toMatch(/resultShape/);
    const config = await json(await fetch(`${s.url}/__sim/config`));
    expect(config.resultShape).toBe('dashscope');
    expect(config).not.toHaveProperty('maxRps');
  });

  it('when latencyMs is set, then API answers take at least that long', async () => {
    s = await startSim({ latencyMs: 150 });

    const started = performance.now();
    const res = await s.poll('task-unified-1-abcdefgh');

    expect(res.status).toBe(404);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('when POST /__sim/reset is called, then tasks and stats are cleared but the server keeps serving', async () => {
    s = await startSim();
    const id = await s.submitTask([audio('a.wav')]);
    await s.poll(id);

    const reset = await fetch(`${s.url}/__sim/reset`, { method: 'POST' });
    const afterReset = await s.poll(id);
    const stats = await json(await fetch(`${s.url}/__sim/stats`));
    const health = await fetch(`${s.url}/healthz`);

    expect(reset.status).toBe(204);
    expect(afterReset.status).toBe(404);
    expect(stats).toMatchObject({ submissions: 0, polls: 0, requests: 1, byStatus: { '404': 1 }, tasks: [] });
    expect(health.status).toBe(200);
  });
});
