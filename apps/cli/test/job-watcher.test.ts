import { describe, expect, it } from '@jest/globals';
import { ApiClient } from '../src/api/client.js';
import type { Job } from '../src/api/schemas.js';
import { watchJob } from '../src/job-watcher.js';
import { fakeApi, json, makeJob, problem, sse, type Route } from './fake-api.js';

const ID = 'job_01jd0000000000000000000000';
const running = makeJob({ status: 'running', counts: { completed: 1, queued: 2 } });
const done = makeJob({ status: 'completed' });

async function watch(route: Route, idleTimeoutMs?: number) {
  const api = fakeApi(route);
  const client = new ApiClient({ baseUrl: 'http://api.test', token: 'tok', urlSource: 'test', tokenSource: 'test', fetch: api.fetch });
  const seen: Job[] = [];
  const final = await watchJob(client, ID, { onJob: (j) => seen.push(j), sleep: async () => undefined, pollIntervalMs: 0, idleTimeoutMs });
  return { final, seen, paths: api.requests.map((r) => r.url.pathname) };
}

describe('watchJob', () => {
  it('when the event stream ends with `end`, then the final Job comes from it and nothing is polled', async () => {
    const { final, seen, paths } = await watch(() =>
      sse([
        { event: 'job', data: running },
        { event: 'job', data: done },
        { event: 'end', data: done },
      ]),
    );
    expect(final.status).toBe('completed');
    expect(seen.map((j) => j.status)).toEqual(['running', 'completed', 'completed']);
    expect(paths).toEqual([`/v1/jobs/${ID}/events`]);
  });

  it('when the server has no events route (404 "No route…"), then it polls the job until it ends', async () => {
    let polls = 0;
    const { final, paths } = await watch((req) => {
      if (req.url.pathname.endsWith('/events')) return problem(404, 'not-found', `No route for GET ${req.url.pathname}.`);
      return json(200, ++polls < 3 ? running : done);
    });
    expect(final.status).toBe('completed');
    expect(paths.filter((p) => p === `/v1/jobs/${ID}`)).toHaveLength(3);
  });

  it('when the job does not exist (404 "No such job."), then it fails without polling', async () => {
    await expect(watch(() => problem(404, 'not-found', 'No such job.'))).rejects.toThrow('404 not-found: No such job.');
  });

  it('when the stream closes before `end`, then polling takes over', async () => {
    const { final, paths } = await watch((req) =>
      req.url.pathname.endsWith('/events') ? sse([{ event: 'job', data: running }]) : json(200, done),
    );
    expect(final.status).toBe('completed');
    expect(paths).toEqual([`/v1/jobs/${ID}/events`, `/v1/jobs/${ID}`]);
  });

  it('when the stream goes silent past the idle timeout, then polling takes over', async () => {
    const { final } = await watch(
      (req) =>
        req.url.pathname.endsWith('/events') ? sse([{ event: 'job', data: running }], { hold: true, signal: req.signal }) : json(200, done),
      50,
    );
    expect(final.status).toBe('completed');
  });

  it('when polling meets a 503 or two, then it rides them out', async () => {
    const answers = [problem(503, 'unavailable', 'down'), problem(503, 'unavailable', 'down'), json(200, done)];
    const { final } = await watch((req) =>
      req.url.pathname.endsWith('/events') ? problem(500, 'internal', 'oops') : (answers.shift() ?? json(200, done)),
    );
    expect(final.status).toBe('completed');
  });

  it('when the token is refused, then it fails at once', async () => {
    await expect(watch(() => problem(401, 'unauthorized', 'The bearer token is not valid.'))).rejects.toThrow(/^401 unauthorized/);
  });
});
