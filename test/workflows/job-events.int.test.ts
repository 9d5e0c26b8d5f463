import { afterEach, describe, expect, it } from '@jest/globals';
import type { Job } from '@batchscribe/shared';
import { readSse, type SseEvent } from '../support/sse-client.js';
import { Stack, TOKENS, isTerminal, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const auth = (token: string = TOKENS.acme) => ({ authorization: `Bearer ${token}` });
const jobEvents = (events: SseEvent[]) => events.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data) as Job);

describe('GET /v1/jobs/{id}/events', () => {
  it('when a job is watched to the end, then its states arrive in order, at most ~2/s, ending with job then end', async () => {
    stack = await Stack.start({
      sim: { taskDurationMs: 400 },
      apiEnv: { SSE_HEARTBEAT_MS: '200' },
      workerEnv: { FOXAPI_MAX_INFLIGHT_TASKS: '1' },
    });
    const created = await stack.submit({ file_urls: urls(300) });
    const started = Date.now();
    const res = await readSse(`${stack.apiUrl}/v1/jobs/${created.id}/events`, auth());
    const elapsedS = (Date.now() - started) / 1000;

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('cache-control')).toMatch(/no-cache/);

    const named = res.events.filter((e) => !e.comment);
    expect(named.at(-1)?.event).toBe('end');
    expect(named.at(-2)?.event).toBe('job');
    expect(named.at(-1)?.data).toBe(named.at(-2)?.data);
    const states = jobEvents(named);
    expect(states[0]?.id).toBe(created.id);
    expect(['queued', 'running']).toContain(states[0]?.status);
    expect(states.at(-1)?.status).toBe('completed');
    expect(states.at(-1)?.counts.completed).toBe(300);
    // In order: progress never goes back, and the stream shows the job moving, not just its ends.
    const progress = states.map((j) => j.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBeGreaterThanOrEqual(3);
    // Throttled: at most 2 per second, plus the first one.
    expect(states.length).toBeLessThanOrEqual(Math.ceil(elapsedS * 2) + 1);
    // The server spaces them ≥ 500 ms apart; arrival times carry some network jitter.
    const arrivals = named.filter((e) => e.event === 'job').map((e) => e.at);
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(300);
    expect(res.events.some((e) => e.comment === 'heartbeat')).toBe(true);
  });

  it('when the job has already ended, then the stream is its final state and end, at once', async () => {
    stack = await Stack.start();
    const created = await stack.submit({ file_urls: urls(2) });
    const done = await stack.waitForJob(created.id);
    const res = await readSse(`${stack.apiUrl}/v1/jobs/${created.id}/events`, auth(), { timeoutMs: 5_000 });
    expect(res.events.map((e) => e.event)).toEqual(['job', 'end']);
    expect(JSON.parse(res.events[1]!.data)).toEqual(done);
  });

  it('when another tenant asks, then 404 problem+json and no stream', async () => {
    stack = await Stack.start({ worker: false });
    const created = await stack.submit({ file_urls: urls(1) });
    const res = await readSse(`${stack.apiUrl}/v1/jobs/${created.id}/events`, auth(TOKENS.globex));
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((JSON.parse(res.text) as { type: string }).type).toMatch(/\/not-found$/);
    expect((await readSse(`${stack.apiUrl}/v1/jobs/job_00000000000000000000000000/events`, auth())).status).toBe(404);
  });

  it('when many clients watch, then one Redis subscriber serves them all and each sees the end', async () => {
    stack = await Stack.start({ sim: { taskDurationMs: 1_500 } });
    const created = await stack.submit({ file_urls: urls(3) });
    let open = 0;
    const streams = Array.from({ length: 5 }, () => {
      let first = true;
      const onEvent = () => (first ? ((first = false), open++) : undefined);
      return readSse(`${stack!.apiUrl}/v1/jobs/${created.id}/events`, auth(), { onEvent });
    });
    await waitFor(async () => (open === 5 ? true : undefined), { what: 'five open streams' });
    const [, subscribers] = (await stack.redis.pubsub('NUMSUB', stack.keys.jobEvents)) as [string, number];
    expect(subscribers).toBe(1);
    const results = await Promise.all(streams);
    for (const res of results) {
      expect(res.events.filter((e) => !e.comment).at(-1)?.event).toBe('end');
      expect(isTerminal(jobEvents(res.events).at(-1)!)).toBe(true);
    }
  });
});
