import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { MockAgent } from 'undici';
import {
  FoxapiClient,
  isAmbiguousSubmitFailure,
  isFoxapiError,
  isRetryable,
  isTransientStatus,
  isUnreachable,
  parseRetryAfter,
  type FoxapiError,
  type FoxapiRequestEvent,
  type SubmitRequest,
} from '../src/foxapi/index.js';

// The only place in the project that pins foxapi's wire details with undici's MockAgent (the
// client is the only module that speaks them); everything above it talks to the simulator over HTTP.

const BASE = 'https://api.foxapi.test';
const KEY = 'sk-secret-key-123';
const JSON_HEADERS = { 'content-type': 'application/json' };

const submitAnswer = {
  created: 1757165031,
  id: 'task-unified-1757165031-uyujaw3d',
  model: 'paraformer-v2',
  object: 'audio.generation.task',
  progress: 0,
  status: 'pending',
  task_info: { can_cancel: true, estimated_time: 45 },
  type: 'audio',
};

function aSubmit(overrides: Partial<SubmitRequest> = {}): SubmitRequest {
  return { model: 'paraformer-v2', file_urls: ['https://media.example/a.wav'], ...overrides };
}

/** What MockAgent tells a reply callback about the request it matched. */
interface SentRequest {
  path: string;
  method: string;
  headers?: unknown;
  body?: unknown;
}

interface Reply {
  statusCode: number;
  data: string;
  responseOptions: { headers: Record<string, string> };
}

/** Captures what the client sent, then answers. */
function captured(): { calls: SentRequest[]; answer: (status: number, body: unknown) => (opts: SentRequest) => Reply } {
  const calls: SentRequest[] = [];
  return {
    calls,
    answer: (status, body) => (opts) => {
      calls.push(opts);
      return { statusCode: status, data: JSON.stringify(body), responseOptions: { headers: JSON_HEADERS } };
    },
  };
}

function headerOf(opts: SentRequest, name: string): string | undefined {
  const headers = opts.headers as Record<string, string> | undefined;
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

async function failureOf(promise: Promise<unknown>): Promise<FoxapiError> {
  try {
    await promise;
  } catch (err) {
    if (isFoxapiError(err)) return err;
    throw err;
  }
  throw new Error('expected a FoxapiError, the call succeeded');
}

let agent: MockAgent;
let client: FoxapiClient;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  client = new FoxapiClient({ baseUrl: `${BASE}/`, apiKey: KEY, timeoutMs: 2_000, dispatcher: agent });
});

afterEach(async () => {
  await client.close();
  await agent.close();
});

describe('submit', () => {
  it('when submitting, then it POSTs the JSON body to /v1/audios/generations with the Bearer key', async () => {
    const { calls, answer } = captured();
    agent.get(BASE).intercept({ path: '/v1/audios/generations', method: 'POST' }).reply(answer(200, submitAnswer));
    const req = aSubmit({ language_hints: ['zh', 'en'], file_urls: ['https://media.example/a.wav', 'https://media.example/b.wav'] });

    await client.submit(req);

    expect(calls).toHaveLength(1);
    const sent = calls[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/audios/generations');
    expect(headerOf(sent, 'authorization')).toBe(`Bearer ${KEY}`);
    expect(headerOf(sent, 'content-type')).toBe('application/json');
    expect(JSON.parse(String(sent.body))).toEqual(req);
  });

  it('when foxapi accepts the task, then the id, estimated time and can_cancel are returned with the raw answer', async () => {
    agent.get(BASE).intercept({ path: '/v1/audios/generations', method: 'POST' }).reply(200, submitAnswer, { headers: JSON_HEADERS });

    const task = await client.submit(aSubmit());

    expect(task).toEqual({ taskId: submitAnswer.id, estimatedTimeS: 45, canCancel: true, usage: null, raw: submitAnswer });
  });

  it('when the submit answer carries usage.credits_reserved, then it is read and the usage kept as reported', async () => {
    const body = { ...submitAnswer, usage: { credits_reserved: 5, user_group: 'default' } };
    agent.get(BASE).intercept({ path: '/v1/audios/generations', method: 'POST' }).reply(200, body, { headers: JSON_HEADERS });

    const task = await client.submit(aSubmit());

    expect(task.usage).toEqual({ billedSeconds: null, creditsReserved: 5, reported: { credits_reserved: 5, user_group: 'default' } });
  });

  it('when the answer lacks task_info, then estimate and can_cancel are null', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(200, { id: 'task-unified-1-x' }, { headers: JSON_HEADERS });

    const task = await client.submit(aSubmit());

    expect(task).toMatchObject({ taskId: 'task-unified-1-x', estimatedTimeS: null, canCancel: null });
  });

  it('when a 200 answer is not JSON, then it is a protocol error and an ambiguous submit', async () => {
    agent.get(BASE).intercept({ path: '/v1/audios/generations', method: 'POST' }).reply(200, '<html>oops</html>');

    const err = await failureOf(client.submit(aSubmit()));

    expect(err).toMatchObject({ kind: 'protocol', status: 200, maybeReachedServer: true });
    expect(isAmbiguousSubmitFailure(err)).toBe(true);
  });

  it('when a 200 answer has no task id, then it is a protocol error', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(200, { status: 'pending' }, { headers: JSON_HEADERS });

    const err = await failureOf(client.submit(aSubmit()));

    expect(err.kind).toBe('protocol');
  });
});

describe('getTask', () => {
  it('when reading a task, then it GETs /v1/tasks/{encoded id}?sync_upstream=true with the Bearer key', async () => {
    const { calls, answer } = captured();
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/task%2Fodd%20id?sync_upstream=true', method: 'GET' })
      .reply(answer(200, { id: 'task/odd id', status: 'processing', progress: 40 }));

    const snapshot = await client.getTask('task/odd id');

    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe('GET');
    expect(headerOf(calls[0]!, 'authorization')).toBe(`Bearer ${KEY}`);
    expect(snapshot).toMatchObject({ taskId: 'task/odd id', status: 'processing', progress: 40, results: null, error: null });
  });

  it('when the task completed, then its results are returned as sent', async () => {
    const results = [{ file_url: 'https://media.example/a.wav', transcription_url: 'https://oss.example/r.json' }];
    const body = { id: 't1', status: 'completed', progress: 100, results, usage: { credits_reserved: 5 } };
    agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).reply(200, body, { headers: JSON_HEADERS });

    const snapshot = await client.getTask('t1');

    expect(snapshot).toEqual({
      taskId: 't1',
      status: 'completed',
      progress: 100,
      results,
      error: null,
      usage: { billedSeconds: null, creditsReserved: 5, reported: { credits_reserved: 5 } },
      raw: body,
    });
  });

  it('when a terminal answer carries usage.duration (and more), then it is the billed seconds and the rest is kept as reported', async () => {
    const usage = { credits_reserved: 2, user_group: 'default', duration: 9, billing_rule: 'per_second' };
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(200, { id: 't1', status: 'completed', results: [], usage }, { headers: JSON_HEADERS });

    const snapshot = await client.getTask('t1');

    expect(snapshot.usage).toEqual({ billedSeconds: 9, creditsReserved: 2, reported: usage });
  });

  it('when usage is absent, not an object, or has figures of odd types, then they read as absent instead of failing', async () => {
    const answers = [
      { id: 't1', status: 'completed', results: [] },
      { id: 't1', status: 'completed', results: [], usage: 'lots' },
      { id: 't1', status: 'completed', results: [], usage: { duration: 'nine', credits_reserved: -1 } },
    ];
    const seen = [];
    for (const body of answers) {
      agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).reply(200, body, { headers: JSON_HEADERS });
      seen.push((await client.getTask('t1')).usage);
    }

    expect(seen[0]).toBeNull();
    expect(seen[1]).toBeNull();
    expect(seen[2]).toMatchObject({ billedSeconds: null, creditsReserved: null });
  });

  it('when results sit under DashScope-style output.results, then they are returned as results', async () => {
    const results = [{ file_url: 'https://media.example/a.wav', transcription_url: 'https://oss.example/r.json' }];
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(200, { status: 'completed', output: { task_status: 'SUCCEEDED', results } }, { headers: JSON_HEADERS });

    const snapshot = await client.getTask('t1');

    expect(snapshot.taskId).toBe('t1');
    expect(snapshot.results).toEqual(results);
  });

  it('when the task failed, then its error code and message are kept', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(
        200,
        { id: 't1', status: 'failed', error: { code: 'generation_failed', message: 'boom', type: 'task_error' } },
        { headers: JSON_HEADERS },
      );

    const snapshot = await client.getTask('t1');

    expect(snapshot.error).toEqual({ code: 'generation_failed', message: 'boom' });
  });

  it('when optional fields have odd types, then they read as absent instead of failing', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(200, { id: 't1', status: 'processing', progress: 'half', results: 'soon' }, { headers: JSON_HEADERS });

    const snapshot = await client.getTask('t1');

    expect(snapshot).toMatchObject({ status: 'processing', progress: null, results: null });
  });

  it('when the answer has no status, then it is a protocol error', async () => {
    agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).reply(200, { id: 't1' }, { headers: JSON_HEADERS });

    const err = await failureOf(client.getTask('t1'));

    expect(err).toMatchObject({ kind: 'protocol', status: 200 });
  });
});

describe('HTTP errors', () => {
  it('when a status says "later" (408, 429, 5xx), then it is transient; the other 4xx are not', () => {
    expect([408, 429, 500, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 401, 402, 403, 404, 409, 422].some(isTransientStatus)).toBe(false);
  });

  const cases: Array<[number, FoxapiError['kind'], boolean]> = [
    [400, 'invalid', false],
    [401, 'auth', false],
    [402, 'quota', false],
    [403, 'invalid', false],
    [404, 'not_found', false],
    [408, 'timeout', true],
    [409, 'invalid', false],
    [422, 'invalid', false],
    [429, 'rate_limited', true],
    [500, 'server', true],
    [502, 'server', true],
    [503, 'server', true],
    [504, 'server', true],
  ];

  it.each(cases)('when foxapi answers %i, then the error kind is %s (retryable: %s)', async (status, kind, retryable) => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(status, { error: { message: 'no', type: 'some_error' } }, { headers: JSON_HEADERS });

    const err = await failureOf(client.getTask('t1'));

    expect(err).toMatchObject({ name: 'FoxapiError', kind, status, upstreamType: 'some_error', maybeReachedServer: true });
    expect(isRetryable(err)).toBe(retryable);
  });

  it('when a 422 carries error.code and error.type, then both are kept', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(
        422,
        { error: { code: 'unsupported_advanced_options', message: 'no channel', type: 'invalid_request_error' } },
        { headers: JSON_HEADERS },
      );

    const err = await failureOf(client.submit(aSubmit()));

    expect(err).toMatchObject({
      kind: 'invalid',
      status: 422,
      upstreamCode: 'unsupported_advanced_options',
      upstreamType: 'invalid_request_error',
    });
    expect(err.message).toContain('unsupported_advanced_options');
    expect(isAmbiguousSubmitFailure(err)).toBe(false);
  });

  it('when an error body is not JSON, then the status still decides the kind and upstream fields are null', async () => {
    agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).reply(502, 'Bad Gateway');

    const err = await failureOf(client.getTask('t1'));

    expect(err).toMatchObject({ kind: 'server', status: 502, upstreamCode: null, upstreamType: null, retryAfterMs: null });
  });

  it('when a 429 carries Retry-After in seconds, then retryAfterMs is those seconds in ms', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(429, { error: { message: 'slow down', type: 'rate_limit_error' } }, { headers: { ...JSON_HEADERS, 'retry-after': '7' } });

    const err = await failureOf(client.submit(aSubmit()));

    expect(err).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7_000 });
    expect(isAmbiguousSubmitFailure(err)).toBe(false);
  });

  it('when a 503 carries Retry-After as an HTTP date, then retryAfterMs counts down to it', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(503, '', { headers: { 'retry-after': at } });

    const err = await failureOf(client.getTask('t1'));

    expect(err.kind).toBe('server');
    // HTTP dates have whole seconds, and some time passes between writing and reading it.
    expect(err.retryAfterMs).toBeGreaterThan(25_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('when a submit gets a 5xx, then it is an ambiguous submit failure', async () => {
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(500, { error: { message: 'x', type: 'server_error' } }, { headers: JSON_HEADERS });

    const err = await failureOf(client.submit(aSubmit()));

    expect(isAmbiguousSubmitFailure(err)).toBe(true);
  });
});

describe('Retry-After parsing', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('when the value is delta-seconds, then it is read as seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('when the value is an HTTP date, then it is the time until then, never negative', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:45 GMT', now)).toBe(45_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('when the value is absent or garbage, then it is null', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});

describe('transport failures', () => {
  it('when no answer arrives within timeoutMs, then the error is a timeout that may have reached the server', async () => {
    const fast = new FoxapiClient({ baseUrl: BASE, apiKey: KEY, timeoutMs: 100, dispatcher: agent });
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(200, submitAnswer, { headers: JSON_HEADERS })
      .delay(1_000);

    const err = await failureOf(fast.submit(aSubmit()));

    expect(err).toMatchObject({ kind: 'timeout', status: null, maybeReachedServer: true });
    expect(isRetryable(err)).toBe(true);
    expect(isAmbiguousSubmitFailure(err)).toBe(true);
  });

  it('when the socket breaks mid-request, then the error is network and may have reached the server', async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    agent.get(BASE).intercept({ path: '/v1/audios/generations', method: 'POST' }).replyWithError(reset);

    const err = await failureOf(client.submit(aSubmit()));

    expect(err).toMatchObject({ kind: 'network', maybeReachedServer: true });
    expect(isAmbiguousSubmitFailure(err)).toBe(true);
  });

  it('when the connection is refused, then the error is network, never reached the server, and a submit is safe to retry', async () => {
    const port = await closedPort();
    const refused = new FoxapiClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY, timeoutMs: 2_000 });
    try {
      const err = await failureOf(refused.submit(aSubmit()));

      expect(err).toMatchObject({ kind: 'network', status: null, maybeReachedServer: false });
      expect(isRetryable(err)).toBe(true);
      expect(isAmbiguousSubmitFailure(err)).toBe(false);
    } finally {
      await refused.close();
    }
  });

  it('when the host does not resolve, then the error, its log line and its event name the code and the host', async () => {
    const lines: string[] = [];
    const events: FoxapiRequestEvent[] = [];
    const logged = new FoxapiClient({
      baseUrl: BASE,
      apiKey: KEY,
      timeoutMs: 2_000,
      dispatcher: agent,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
      onRequestEnd: (e) => events.push(e),
    });
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND api.foxapi.test'), { code: 'ENOTFOUND' });
    agent.get(BASE).intercept({ path: '/v1/audios/generations', method: 'POST' }).replyWithError(dns);

    const err = await failureOf(logged.submit(aSubmit()));

    expect(err).toMatchObject({ kind: 'network', errorCode: 'ENOTFOUND', host: 'api.foxapi.test', maybeReachedServer: false });
    expect(err.message).toBe('submit: network error (ENOTFOUND api.foxapi.test)');
    expect(isUnreachable(err)).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'network', status: null, code: 'ENOTFOUND', host: 'api.foxapi.test' });
    expect(events).toEqual([expect.objectContaining({ unreachable: true, errorCode: 'ENOTFOUND', host: 'api.foxapi.test' })]);
  });

  it('when the socket breaks after connecting, then foxapi is not called unreachable', async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).replyWithError(reset);

    expect(isUnreachable(await failureOf(client.getTask('t1')))).toBe(false);
  });

  it('when the caller aborts, then the call fails as network and counts as possibly sent', async () => {
    const controller = new AbortController();
    agent
      .get(BASE)
      .intercept({ path: '/v1/tasks/t1?sync_upstream=true' })
      .reply(200, { status: 'pending' }, { headers: JSON_HEADERS })
      .delay(1_000);

    const pending = failureOf(client.getTask('t1', { signal: controller.signal }));
    controller.abort();
    const err = await pending;

    expect(err).toMatchObject({ kind: 'network', maybeReachedServer: true });
  });

  it('when the signal is already aborted, then nothing is sent', async () => {
    const err = await failureOf(client.submit(aSubmit(), { signal: AbortSignal.abort() }));

    expect(err).toMatchObject({ kind: 'network', maybeReachedServer: false });
  });
});

describe('checkAccess', () => {
  it('when foxapi answers 404 for the made-up task, then the key works: it resolves, and no warning is logged', async () => {
    const lines: string[] = [];
    const checked = new FoxapiClient({
      baseUrl: BASE,
      apiKey: KEY,
      timeoutMs: 2_000,
      dispatcher: agent,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    });
    let auth: unknown;
    agent
      .get(BASE)
      .intercept({ path: /^\/v1\/tasks\/task-unified-0-/, method: 'GET' })
      .reply(
        404,
        (req: SentRequest) => {
          auth = (req.headers as Record<string, string>).authorization;
          return { error: { code: 'not_found', message: 'task not found', type: 'not_found' } };
        },
        { headers: JSON_HEADERS },
      );

    await expect(checked.checkAccess()).resolves.toBeUndefined();
    expect(auth).toBe(`Bearer ${KEY}`);
    expect(lines).toEqual([]);
  });

  it('when foxapi answers 401, then the check fails as auth', async () => {
    agent
      .get(BASE)
      .intercept({ path: /^\/v1\/tasks\//, method: 'GET' })
      .reply(401, { error: { message: 'Invalid API key.', type: 'authentication_error' } }, { headers: JSON_HEADERS });

    expect(await failureOf(client.checkAccess())).toMatchObject({ kind: 'auth', status: 401 });
  });
});

describe('fetchJson', () => {
  const RESULTS = 'https://oss.example';

  it('when downloading a result, then it GETs the URL as given without the Authorization header', async () => {
    const { calls, answer } = captured();
    agent
      .get(RESULTS)
      .intercept({ path: '/r/a.json?Expires=1&Signature=abc', method: 'GET' })
      .reply(answer(200, { transcripts: [] }));

    const json = await client.fetchJson(`${RESULTS}/r/a.json?Expires=1&Signature=abc`);

    expect(json).toEqual({ transcripts: [] });
    expect(calls).toHaveLength(1);
    expect(headerOf(calls[0]!, 'accept')).toBe('application/json');
    expect(headerOf(calls[0]!, 'authorization')).toBeUndefined();
  });

  it('when the result URL redirects, then the redirect is followed, still without the key', async () => {
    const { calls, answer } = captured();
    agent
      .get(RESULTS)
      .intercept({ path: '/r/a.json' })
      .reply(302, '', { headers: { location: 'https://cdn.example/final.json' } });
    agent
      .get('https://cdn.example')
      .intercept({ path: '/final.json' })
      .reply(answer(200, { ok: true }));

    expect(await client.fetchJson(`${RESULTS}/r/a.json`)).toEqual({ ok: true });
    expect(headerOf(calls[0]!, 'authorization')).toBeUndefined();
  });

  it('when the result is served gzip-encoded, then it is decoded', async () => {
    agent
      .get(RESULTS)
      .intercept({ path: '/r/a.json' })
      .reply(200, gzipSync(JSON.stringify({ file_url: 'x' })), { headers: { 'content-encoding': 'gzip' } });

    expect(await client.fetchJson(`${RESULTS}/r/a.json`)).toEqual({ file_url: 'x' });
  });

  it('when the signed URL has expired (403), then the error is invalid', async () => {
    agent.get(RESULTS).intercept({ path: '/r/a.json' }).reply(403, '<Error>AccessDenied</Error>');

    const err = await failureOf(client.fetchJson(`${RESULTS}/r/a.json`));

    expect(err).toMatchObject({ kind: 'invalid', status: 403 });
  });

  it('when the body is not JSON, then it is a protocol error', async () => {
    agent.get(RESULTS).intercept({ path: '/r/a.json' }).reply(200, 'not json');

    const err = await failureOf(client.fetchJson(`${RESULTS}/r/a.json`));

    expect(err.kind).toBe('protocol');
  });

  it('when the URL is not http(s), then it fails as invalid without sending', async () => {
    const err = await failureOf(client.fetchJson('file:///etc/passwd'));

    expect(err).toMatchObject({ kind: 'invalid', maybeReachedServer: false });
  });
});

describe('observability', () => {
  it('when requests are made, then logs and events carry route, path, status and task id but never the key or query string', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const events: FoxapiRequestEvent[] = [];
    const observed = new FoxapiClient({
      baseUrl: BASE,
      apiKey: KEY,
      timeoutMs: 2_000,
      dispatcher: agent,
      logger,
      onRequestEnd: (e) => events.push(e),
    });
    agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).reply(200, { status: 'pending' }, { headers: JSON_HEADERS });
    agent
      .get(BASE)
      .intercept({ path: '/v1/audios/generations', method: 'POST' })
      .reply(401, { error: { message: 'bad key', type: 'authentication_error' } }, { headers: JSON_HEADERS });

    await observed.getTask('t1');
    await failureOf(observed.submit(aSubmit()));

    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.join('')).not.toContain(KEY);
    expect(lines.join('')).not.toContain('sync_upstream');
    expect(logged[0]).toMatchObject({ route: 'get_task', method: 'GET', path: '/v1/tasks/t1', status: 200, taskId: 't1' });
    expect(logged[1]).toMatchObject({ route: 'submit', method: 'POST', status: 401, kind: 'auth' });
    expect(events).toEqual([
      expect.objectContaining({ route: 'get_task', status: 200, errorKind: null }),
      expect.objectContaining({ route: 'submit', status: 401, errorKind: 'auth' }),
    ]);
  });

  it('when the client is closed, then an injected dispatcher stays usable', async () => {
    agent.get(BASE).intercept({ path: '/v1/tasks/t1?sync_upstream=true' }).reply(200, { status: 'pending' }, { headers: JSON_HEADERS });
    const other = new FoxapiClient({ baseUrl: BASE, apiKey: KEY, timeoutMs: 2_000, dispatcher: agent });

    await other.close();

    await expect(client.getTask('t1')).resolves.toMatchObject({ status: 'pending' });
  });
});

/** A port on 127.0.0.1 that nothing listens on: bind one, then release it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
