import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { JobReader } from '@batchscribe/shared';
import { streamJobEvents } from '../../apps/api/src/events/job-event-stream.js';
import { JobEventsHub } from '../../apps/api/src/events/job-events.hub.js';
import { Stack, TOKENS, openApiContract, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/*
 * Event streams are bounded: per tenant (429) and per process (503), and a reader that does not
 * read gets the latest Job once it does, not every intermediate one queued in the api's heap.
 */

let stack: Stack | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await stack?.stop();
  stack = undefined;
});

interface OpenStream {
  status: number;
  headers: Headers;
  text: () => Promise<string>;
  close: () => void;
}

async function openStream(s: Stack, jobId: string, token: string): Promise<OpenStream> {
  const abort = new AbortController();
  const res = await fetch(`${s.apiUrl}/v1/jobs/${jobId}/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  let body: Promise<string> | undefined;
  const text = () => (body ??= res.text());
  const stream: OpenStream = { status: res.status, headers: res.headers, text, close: () => abort.abort() };
  // A refusal is a whole answer: it must match the OpenAPI document like every answer the Stack sees.
  if (res.status !== 200) {
    const answer = await text();
    openApiContract().expectConforms('get', '/v1/jobs/{id}/events', {
      status: res.status,
      headers: res.headers,
      body: answer,
      text: answer,
    });
  }
  cleanups.push(() => stream.close());
  return stream;
}

describe('event stream caps', () => {
  it('when a tenant opens more than SSE_MAX_STREAMS_PER_TENANT streams, then the next is 429 with Retry-After; past SSE_MAX_STREAMS any tenant gets 503; a closed stream frees its slot', async () => {
    stack = await Stack.start({ worker: false, apiEnv: { SSE_MAX_STREAMS_PER_TENANT: '2', SSE_MAX_STREAMS: '3' } });
    const s = stack;
    const acmeJob = await s.submit({ file_urls: urls(1, 'acme') });
    const globexJob = await s.submit({ file_urls: urls(1, 'globex') }, TOKENS.globex);

    const first = await openStream(s, acmeJob.id, TOKENS.acme);
    const second = await openStream(s, acmeJob.id, TOKENS.acme);
    expect([first.status, second.status]).toEqual([200, 200]);

    const third = await openStream(s, acmeJob.id, TOKENS.acme);
    expect(third.status).toBe(429);
    expect(third.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    const problem = JSON.parse(await third.text()) as { type: string; detail: string };
    expect(problem.type).toBe('https://batchscribe.dev/problems/rate-limited');
    expect(problem.detail).toContain('SSE_MAX_STREAMS_PER_TENANT');

    // Another tenant is not held to acme's count …
    expect((await openStream(s, globexJob.id, TOKENS.globex)).status).toBe(200);
    // … but the process cap is shared by everyone.
    const overProcess = await openStream(s, globexJob.id, TOKENS.globex);
    expect(overProcess.status).toBe(503);
    expect(Number(overProcess.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((JSON.parse(await overProcess.text()) as { type: string }).type).toBe('https://batchscribe.dev/problems/unavailable');

    first.close();
    const again = await waitFor(
      async () => {
        const res = await openStream(s, acmeJob.id, TOKENS.acme);
        if (res.status === 200) return res;
        res.close();
        return undefined;
      },
      { timeoutMs: 3_000, what: 'a freed stream slot' },
    );
    expect(again.status).toBe(200);
  });
});

describe('a slow reader', () => {
  it('when the reader stops reading while its job changes 300 times, then the api buffers at most one event, and the reader then gets the latest Job', async () => {
    stack = await Stack.start({ worker: false });
    const s = stack;
    const job = await s.submit({ file_urls: urls(1, 'slow') });
    const subscriber = new Redis(process.env.REDIS_URL!);
    const hub = new JobEventsHub(subscriber, s.keys.jobEvents, pino({ level: 'silent' }));
    await hub.start();
    cleanups.push(async () => {
      await hub.close();
      await subscriber.quit();
    });
    const reader = new JobReader(s.redis, s.keys);
    let served: ServerResponse | undefined;
    // The api's stream, without its 500 ms throttle, so changes outrun the socket within seconds.
    const server: Server = createServer((_req, res) => {
      served = res;
      streamJobEvents(
        res,
        { jobId: job.id, tenant: 'acme', reader, hub, log: pino({ level: 'silent' }) },
        { minIntervalMs: 0, heartbeatMs: 60_000 },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;

    const socket = connect(port, '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
    socket.pause();
    await waitFor(async () => served, { timeoutMs: 2_000, what: 'the stream' });

    const padding = 'x'.repeat(100_000);
    const eventBytes = Buffer.byteLength(JSON.stringify({ ...job, name: `v000-${padding}` }));
    let mostBuffered = 0;
    for (let v = 0; v < 300; v++) {
      await s.redis.hset(s.keys.job(job.id), 'name', `v${String(v).padStart(3, '0')}-${padding}`);
      await s.redis.publish(s.keys.jobEvents, job.id);
      await new Promise((r) => setTimeout(r, 5));
      mostBuffered = Math.max(mostBuffered, served!.writableLength);
    }
    // 300 changes of ~100 KB are ~30 MB: far more than the socket holds, so the reader stalled.
    expect(served!.writableLength).toBeGreaterThan(0);
    expect(mostBuffered).toBeLessThan(2 * eventBytes + 1_000);

    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (raw += chunk));
    socket.resume();
    await waitFor(async () => (raw.includes('"name":"v299-') ? true : undefined), { timeoutMs: 10_000, what: 'the latest Job' });
    const names = [...raw.matchAll(/"name":"(v\d{3})-/g)].map((m) => m[1]);
    expect(names.at(-1)).toBe('v299');
    // Coalesced: most intermediate versions never went out.
    expect(names.length).toBeLessThan(150);
  });
});
