import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyLayout, type Job } from '@batchscribe/shared';
import { gzipSync } from 'node:zlib';
import { Stack, TOKENS, urls } from '../support/stack.js';
import { rawRequest } from '../support/raw-http.js';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Array<{ path: string; message: string }>;
}

let stack: Stack;
beforeAll(async () => {
  stack = await Stack.start({ worker: false, apiEnv: { MAX_FILES_PER_JOB: '300', MAX_BODY_BYTES: '200000' } });
});
afterAll(async () => {
  await stack.stop();
});

/** Sends a request that must be refused, and checks the refusal and that Redis is untouched. */
async function expectRejected(
  req: { method?: string; path?: string; body?: unknown; headers?: Record<string, string>; token?: string | null },
  status: number,
  type: string,
): Promise<Problem> {
  // The intake rate-limit counter is bookkeeping, not job state: a refused request may count.
  const jobState = async () => (await stack.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));
  const before = await jobState();
  const res = await stack.request<Problem>(req.method ?? 'POST', req.path ?? '/v1/jobs', {
    ...(req.body !== undefined ? { body: req.body } : {}),
    ...(req.headers ? { headers: req.headers } : {}),
    ...(req.token !== undefined ? { token: req.token } : {}),
  });
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.headers.get('x-request-id')).toBeTruthy();
  expect(res.body).toMatchObject({ status, type: `https://batchscribe.dev/problems/${type}` });
  expect(res.body.title).toBeTruthy();
  expect(res.body.detail).toBeTruthy();
  expect(await jobState()).toEqual(before);
  return res.body;
}

const fieldPaths = (p: Problem) => (p.errors ?? []).map((e) => e.path);

describe('bad input to POST /v1/jobs', () => {
  it('when the JSON is malformed, then 400 malformed-request', async () => {
    await expectRejected({ body: '{"file_urls": [' }, 400, 'malformed-request');
  });

  it('when the content type is neither JSON nor text, then 415', async () => {
    const p = await expectRejected(
      { body: 'file_urls=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'unsupported-media-type',
    );
    expect(p.detail).toContain('application/x-www-form-urlencoded');
  });

  it('when the list is empty or missing, then 422 naming file_urls', async () => {
    expect(fieldPaths(await expectRejected({ body: { file_urls: [] } }, 422, 'validation-error'))).toContain('file_urls');
    expect(fieldPaths(await expectRejected({ body: { model: 'paraformer-v2' } }, 422, 'validation-error'))).toContain('file_urls');
    expect(
      fieldPaths(
        await expectRejected({ body: '# only a comment\n\n', headers: { 'content-type': 'text/plain' } }, 422, 'validation-error'),
      ),
    ).toContain('file_urls');
  });

  it('when a URL is not http(s), then 422 naming its index', async () => {
    const p = await expectRejected({ body: { file_urls: ['https://a.example/x.wav', 'ftp://a.example/y.wav'] } }, 422, 'validation-error');
    expect(fieldPaths(p)).toEqual(['file_urls.1']);
  });

  it('when a URL is longer than 2048 characters, then 422 naming its index', async () => {
    const long = `https://a.example/${'x'.repeat(2100)}.wav`;
    const p = await expectRejected(
      { body: { files: [{ url: 'https://a.example/ok.wav' }, { url: 'https://a.example/ok2.wav' }, { url: long }] } },
      422,
      'validation-error',
    );
    expect(fieldPaths(p)).toEqual(['files.2.url']);
  });

  it('when a text/plain line is not a URL, then 422 naming its index and line', async () => {
    const p = await expectRejected(
      { body: 'https://a.example/1.wav\n# c\n\nnot a url\n', headers: { 'content-type': 'text/plain' } },
      422,
      'validation-error',
    );
    expect(p.errors?.[0]).toEqual({ path: 'file_urls.1', message: expect.stringContaining('line 4') });
  });

  it('when the model is unknown, then 422 naming model', async () => {
    expect(fieldPaths(await expectRejected({ body: { model: 'whisper', file_urls: urls(1) } }, 422, 'validation-error'))).toEqual([
      'model',
    ]);
  });

  it('when language_hints are sent with paraformer-8k-v2, then 422', async () => {
    const p = await expectRejected(
      { body: { model: 'paraformer-8k-v2', language_hints: ['zh'], file_urls: urls(1) } },
      422,
      'validation-error',
    );
    expect(fieldPaths(p)).toEqual(['language_hints']);
  });

  it('when a language hint is unknown, then 422 naming it', async () => {
    expect(
      fieldPaths(await expectRejected({ body: { language_hints: ['zh', 'xx'], file_urls: urls(1) } }, 422, 'validation-error')),
    ).toEqual(['language_hints.1']);
  });

  it('when metadata is over 4 KiB, then 422', async () => {
    expect(
      fieldPaths(await expectRejected({ body: { metadata: { blob: 'x'.repeat(5000) }, file_urls: urls(1) } }, 422, 'validation-error')),
    ).toEqual(['metadata']);
  });

  it('when an unknown field is sent, then 422 rather than silently ignoring it', async () => {
    await expectRejected({ body: { file_urls: urls(1), langauge_hints: ['zh'] } }, 422, 'validation-error');
  });

  it('when callback_url is not http(s), then 422', async () => {
    expect(
      fieldPaths(await expectRejected({ body: { file_urls: urls(1), callback_url: 'javascript:alert(1)' } }, 422, 'validation-error')),
    ).toEqual(['callback_url']);
  });

  it('when there are more files than MAX_FILES_PER_JOB, then 413', async () => {
    await expectRejected({ body: { file_urls: urls(301) } }, 413, 'payload-too-large');
    await expectRejected({ body: urls(301).join('\n'), headers: { 'content-type': 'text/plain' } }, 413, 'payload-too-large');
  });

  it('when the body is over the byte limit, then 413', async () => {
    await expectRejected({ body: { file_urls: urls(200), name: 'x'.repeat(250_000) } }, 413, 'payload-too-large');
  });

  it('when the token is missing or wrong, then 401', async () => {
    await expectRejected({ body: { file_urls: urls(1) }, token: null }, 401, 'unauthorized');
    await expectRejected({ body: { file_urls: urls(1) }, token: 'nope' }, 401, 'unauthorized');
    await expectRejected({ method: 'GET', path: '/v1/jobs', token: 'nope' }, 401, 'unauthorized');
  });
});

describe('reading jobs', () => {
  it('when text/plain is posted with CRLF, comments and options as query, then one job holds the trimmed URLs', async () => {
    const res = await stack.request<Job>('POST', '/v1/jobs?model=paraformer-v2&language_hints=zh,en&name=nightly', {
      body: '# archive\r\n  https://a.example/1.wav  \r\n\r\nhttps://a.example/2.wav\r\n',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.body).toMatchObject({
      object: 'transcription.job',
      tenant: 'acme',
      status: 'queued',
      name: 'nightly',
      counts: { total: 2, queued: 2 },
    });
    const results = await stack.request<{ data: Array<{ file_url: string; status: string }> }>('GET', `/v1/jobs/${res.body.id}/results`);
    expect(results.body.data.map((r) => r.file_url)).toEqual(['https://a.example/1.wav', 'https://a.example/2.wav']);
    expect(results.body.data.every((r) => r.status === 'queued')).toBe(true);
  });

  it('when another tenant asks for a job, then it is a 404, never a 403', async () => {
    const job = await stack.submit({ file_urls: urls(1) });
    await expectRejected({ method: 'GET', path: `/v1/jobs/${job.id}`, token: TOKENS.globex }, 404, 'not-found');
    await expectRejected({ method: 'GET', path: `/v1/jobs/${job.id}/results`, token: TOKENS.globex }, 404, 'not-found');
    const list = await stack.request<{ data: Job[] }>('GET', '/v1/jobs', { token: TOKENS.globex });
    expect(list.body.data.find((j) => j.id === job.id)).toBeUndefined();
  });

  it('when a job or route does not exist, then 404 problem+json', async () => {
    await expectRejected({ method: 'GET', path: '/v1/jobs/job_01jzzzzzzzzzzzzzzzzzzzzzzz' }, 404, 'not-found');
    await expectRejected({ method: 'GET', path: '/v1/jobs/nonsense' }, 404, 'not-found');
    await expectRejected({ method: 'GET', path: '/v2/nothing' }, 404, 'not-found');
  });

  it('when query parameters are sent empty, then they count as not sent', async () => {
    const job = await stack.submit({ file_urls: urls(2) });
    const listed = await stack.request<{ data: Job[]; next_cursor: string | null }>('GET', '/v1/jobs?status=&limit=&cursor=');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((j) => j.id)).toContain(job.id);
    expect((await stack.request('GET', `/v1/jobs/${job.id}/results?status=&limit=&cursor=`)).status).toBe(200);
  });

  it('when the cursor or limit is bad, then 400 malformed-request', async () => {
    const job = await stack.submit({ file_urls: urls(3) });
    await expectRejected({ method: 'GET', path: '/v1/jobs?cursor=garbage' }, 400, 'malformed-request');
    await expectRejected({ method: 'GET', path: '/v1/jobs?limit=0' }, 400, 'malformed-request');
    await expectRejected({ method: 'GET', path: '/v1/jobs?limit=101' }, 400, 'malformed-request');
    await expectRejected({ method: 'GET', path: `/v1/jobs/${job.id}/results?limit=1001` }, 400, 'malformed-request');
    await expectRejected(
      { method: 'GET', path: `/v1/jobs/${job.id}/results?cursor=${Buffer.from('{"v":"x"}').toString('base64url')}` },
      400,
      'malformed-request',
    );
  });

  it('when jobs are listed in pages, then they come newest first, each once, for the caller only', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await stack.submit({ file_urls: urls(1), name: `page-${i}` }, TOKENS.globex)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const res = await stack.request<{ data: Job[]; next_cursor: string | null }>('GET', `/v1/jobs?limit=2${q}`, { token: TOKENS.globex });
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((j) => j.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...mine].reverse());
    const filtered = await stack.request<{ data: Job[] }>('GET', '/v1/jobs?status=completed', { token: TOKENS.globex });
    expect(filtered.body.data).toEqual([]);
  });

  it('when results are streamed as NDJSON, then every file comes once, in index order', async () => {
    const job = await stack.submit({ file_urls: urls(250, 'nd') });
    const res = await fetch(`${stack.apiUrl}/v1/jobs/${job.id}/results`, {
      headers: { authorization: `Bearer ${TOKENS.acme}`, accept: 'application/x-ndjson' },
    });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; file_url: string });
    expect(lines.map((l) => l.index)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(lines[249]?.file_url).toBe('https://media.example.com/nd-249.wav');
  });

  it('when a transcript is asked for before it exists, then 404', async () => {
    const job = await stack.submit({ file_urls: urls(1) });
    await expectRejected({ method: 'GET', path: `/v1/jobs/${job.id}/files/0/transcript` }, 404, 'not-found');
    await expectRejected({ method: 'GET', path: `/v1/jobs/${job.id}/files/7/transcript` }, 404, 'not-found');
    await expectRejected({ method: 'GET', path: `/v1/jobs/${job.id}/files/0/transcript?format=doc` }, 400, 'malformed-request');
  });

  it('when the caller sends X-Request-Id, then it is echoed', async () => {
    const res = await stack.request('GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });

  it('when no worker has sent a heartbeat, then /readyz is 503 naming the reason', async () => {
    const res = await stack.request<Problem>('GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.body.detail).toContain('worker');
  });
});

describe('per-tenant intake rate limit', () => {
  it('when a tenant submits beyond its rate, then 429 problem+json with Retry-After and RateLimit headers, and other tenants are unaffected', async () => {
    const limited = await Stack.start({ worker: false, apiEnv: { INTAKE_RATE_LIMIT_PER_MIN: '2' } });
    try {
      for (let i = 0; i < 2; i++) expect((await limited.request('POST', '/v1/jobs', { body: { file_urls: urls(1) } })).status).toBe(202);
      const before = await limited.keysUnderPrefix();
      const res = await limited.request<Problem>('POST', '/v1/jobs', { body: { file_urls: urls(1) } });
      expect(res.status).toBe(429);
      expect(res.body.type).toMatch(/\/rate-limited$/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.headers.get('ratelimit-policy')).toContain('2');
      expect(res.headers.get('ratelimit')).toBeTruthy();
      expect((await limited.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'))).toEqual(
        before.filter((k) => !k.includes(':ratelimit:')),
      );
      expect((await limited.request('POST', '/v1/jobs', { body: { file_urls: urls(1) }, token: TOKENS.globex })).status).toBe(202);
      expect((await limited.request('GET', '/v1/jobs')).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe('intake admission (INTAKE_MAX_INFLIGHT_BYTES)', () => {
  /** Starts a POST whose body is only half sent, so the api holds it as in flight. */
  function halfSentPost(apiUrl: string, body: string): { finish: () => Promise<number> } {
    const url = new URL('/v1/jobs', apiUrl);
    let pending: ReturnType<typeof request> | undefined;
    const answered = new Promise<number>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKENS.acme}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 100));
      pending = req;
    });
    return {
      finish: async () => {
        pending!.end(body.slice(100));
        return answered;
      },
    };
  }

  it('when large submissions exceed the budget, then the next is 503 with Retry-After and nothing written, and it gets in once the first is done', async () => {
    const admission = await Stack.start({ worker: false, apiEnv: { INTAKE_MAX_INFLIGHT_BYTES: '800', INTAKE_RATE_LIMIT_PER_MIN: '0' } });
    try {
      const first = JSON.stringify({ file_urls: urls(12, 'first') });
      const second = { file_urls: urls(8, 'second') };
      expect(Buffer.byteLength(first)).toBeLessThan(800);
      expect(Buffer.byteLength(first) + Buffer.byteLength(JSON.stringify(second))).toBeGreaterThan(800);

      const held = halfSentPost(admission.apiUrl, first);
      await sleep(300); // the first request's headers reach the api
      const before = await admission.keysUnderPrefix();
      const refused = await admission.request<Problem>('POST', '/v1/jobs', { body: second });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body.type).toBe('https://batchscribe.dev/problems/unavailable');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await admission.keysUnderPrefix()).toEqual(before);

      expect(await held.finish()).toBe(202);
      expect((await admission.request('POST', '/v1/jobs', { body: second })).status).toBe(202);
      // Alone, a body larger than the whole budget is still taken in.
      expect((await admission.request('POST', '/v1/jobs', { body: { file_urls: urls(40, 'alone') } })).status).toBe(202);
    } finally {
      await admission.stop();
    }
  });
});

describe('callback_url without a signing key', () => {
  it('when the server has no WEBHOOK_SECRET, then a job with callback_url is 422 naming callback_url, and nothing is written', async () => {
    const unsigned = await Stack.start({ worker: false, apiEnv: { WEBHOOK_SECRET: '' } });
    try {
      const before = await unsigned.keysUnderPrefix();
      const res = await unsigned.request<Problem>('POST', '/v1/jobs', {
        body: { file_urls: urls(1), callback_url: 'https://hooks.example.com/batchscribe' },
      });
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('https://batchscribe.dev/problems/validation-error');
      expect(fieldPaths(res.body)).toEqual(['callback_url']);
      expect(res.body.detail).toContain('WEBHOOK_SECRET');
      expect((await unsigned.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'))).toEqual(
        before.filter((k) => !k.includes(':ratelimit:')),
      );
      expect((await unsigned.request('POST', '/v1/jobs', { body: { file_urls: urls(1) } })).status).toBe(202);
    } finally {
      await unsigned.stop();
    }
  });
});

describe('input the service cannot store faithfully', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 'leaf';
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  };

  it('when a string holds a lone UTF-16 surrogate, then 422 naming its path, wherever it is', async () => {
    // JSON.stringify writes the lone surrogate as the escape \ud800, exactly what a client sends.
    const ref = await expectRejected({ body: { files: [{ url: urls(1)[0], ref: 'a\ud800b' }] } }, 422, 'validation-error');
    expect(fieldPaths(ref)).toEqual(['files.0.ref']);
    expect(ref.errors?.[0]?.message).toContain('well-formed');
    expect(fieldPaths(await expectRejected({ body: { file_urls: urls(1), name: '\udc00' } }, 422, 'validation-error'))).toEqual(['name']);
    expect(
      fieldPaths(await expectRejected({ body: { file_urls: urls(1), metadata: { ['k\ud800']: 1 } } }, 422, 'validation-error'))[0],
    ).toMatch(/^metadata\.k/);
    expect(
      fieldPaths(await expectRejected({ body: { file_urls: urls(1), metadata: { list: ['ok', '\ud83d'] } } }, 422, 'validation-error')),
    ).toEqual(['metadata.list.1']);
    // A well-formed pair (an emoji) is fine.
    expect((await stack.request('POST', '/v1/jobs', { body: { files: [{ url: urls(1)[0], ref: 'ok 😀' }] } })).status).toBe(202);
  });

  it('when recognition or diarization is over 4 KiB of JSON, then 422 naming it', async () => {
    const big = { hot_words: 'x'.repeat(4100) };
    expect(fieldPaths(await expectRejected({ body: { file_urls: urls(1), recognition: big } }, 422, 'validation-error'))).toEqual([
      'recognition',
    ]);
    expect(fieldPaths(await expectRejected({ body: { file_urls: urls(1), diarization: big } }, 422, 'validation-error'))).toEqual([
      'diarization',
    ]);
  });

  it('when language_hints repeat or channel_id lists more than 16 channels, then 422', async () => {
    expect(
      fieldPaths(await expectRejected({ body: { file_urls: urls(1), language_hints: ['zh', 'en', 'zh'] } }, 422, 'validation-error')),
    ).toEqual(['language_hints.2']);
    const channels = Array.from({ length: 17 }, (_, i) => i);
    expect(fieldPaths(await expectRejected({ body: { file_urls: urls(1), channel_id: channels } }, 422, 'validation-error'))).toEqual([
      'channel_id',
    ]);
    expect(fieldPaths(await expectRejected({ body: { file_urls: urls(1), channel_id: [0, 0] } }, 422, 'validation-error'))).toEqual([
      'channel_id.1',
    ]);
  });

  it('when metadata nests 10,000 levels deep, then 422, not a stack overflow (jobs and schedules)', async () => {
    // Built as text: JSON.stringify itself cannot write a value this deep.
    const deep = `${'{"a":'.repeat(10_000)}"leaf"${'}'.repeat(10_000)}`;
    const json = { 'content-type': 'application/json' };
    const job = await expectRejected(
      { body: `{"file_urls":${JSON.stringify(urls(1))},"metadata":${deep}}`, headers: json },
      422,
      'validation-error',
    );
    expect(job.errors?.[0]?.message).toMatch(/deeper than/);
    const schedule = await expectRejected(
      {
        path: '/v1/schedules',
        body: `{"name":"n","cron":"0 2 * * *","file_urls":${JSON.stringify(urls(1))},"job":{"metadata":${deep}}}`,
        headers: json,
      },
      422,
      'validation-error',
    );
    expect(schedule.errors?.[0]?.path).toMatch(/^job\.metadata/);
    // 33 levels inside metadata is past the cap even in a small body.
    expect(fieldPaths(await expectRejected({ body: { file_urls: urls(1), metadata: nested(33) } }, 422, 'validation-error'))).toEqual([
      'metadata',
    ]);
  });

  it('when a number is out of range, then 422 rather than storing null', async () => {
    const p = await expectRejected(
      { body: `{"file_urls":["https://a.example/1.wav"],"metadata":{"n":1e999}}`, headers: { 'content-type': 'application/json' } },
      422,
      'validation-error',
    );
    expect(fieldPaths(p)).toEqual(['metadata.n']);
  });

  it('when a URL holds whitespace or a control character, then 422 naming its index', async () => {
    const p = await expectRejected(
      {
        body: {
          file_urls: [
            'https://a.example/ok.wav',
            'https://a.example/has space.wav',
            'https://a.example/tab\t.wav',
            'https://a.example/nul\u0000.wav',
          ],
        },
      },
      422,
      'validation-error',
    );
    expect(fieldPaths(p)).toEqual(['file_urls.1', 'file_urls.2', 'file_urls.3']);
    expect(fieldPaths(await expectRejected({ body: { files: [{ url: 'https://a.example/x.wav\n' }] } }, 422, 'validation-error'))).toEqual([
      'files.0.url',
    ]);
  });

  it('when a JSON body comes with query parameters, then 422 naming each', async () => {
    const p = await expectRejected({ path: '/v1/jobs?model=paraformer-8k-v2&x=1', body: { file_urls: urls(1) } }, 422, 'validation-error');
    expect(fieldPaths(p)).toEqual(['query.model', 'query.x']);
    const s = await expectRejected(
      { path: '/v1/schedules?cron=x', body: { name: 'n', cron: '0 2 * * *', file_urls: urls(1) } },
      422,
      'validation-error',
    );
    expect(fieldPaths(s)).toEqual(['query.cron']);
  });

  it('when a text/plain job has an unknown query parameter, then 422 naming it with the nearest known name', async () => {
    const p = await expectRejected(
      { path: '/v1/jobs?modle=paraformer-v2', body: 'https://a.example/1.wav\n', headers: { 'content-type': 'text/plain' } },
      422,
      'validation-error',
    );
    expect(p.errors).toEqual([{ path: 'modle', message: 'is not a known field; did you mean model?' }]);
  });

  it('when a field name is a typo, then the 422 suggests the known one', async () => {
    const p = await expectRejected({ body: { file_urls: urls(1), langauge_hints: ['zh'] } }, 422, 'validation-error');
    expect(p.errors).toEqual([{ path: 'langauge_hints', message: 'is not a known field; did you mean language_hints?' }]);
    expect(p.detail).toContain('did you mean language_hints?');
    const nestedTypo = await expectRejected({ body: { files: [{ url: urls(1)[0], reff: 'x' }] } }, 422, 'validation-error');
    expect(nestedTypo.errors).toEqual([{ path: 'files.0.reff', message: 'is not a known field; did you mean ref?' }]);
    const far = await expectRejected({ body: { file_urls: urls(1), zzzzzzzz: 1 } }, 422, 'validation-error');
    expect(far.errors).toEqual([{ path: 'zzzzzzzz', message: 'is not a known field' }]);
  });
});

describe('bodies that cannot be read', () => {
  const post = (body: Buffer, headers: Record<string, string>) =>
    rawRequest(`${stack.apiUrl}/v1/jobs`, { body, headers: { authorization: `Bearer ${TOKENS.acme}`, ...headers } });
  const jobState = async () => (await stack.keysUnderPrefix()).filter((k) => !k.includes(':ratelimit:'));

  it.each([
    ['Content-Encoding gzip that is not gzip', Buffer.from(JSON.stringify({ file_urls: urls(1) })), { 'content-encoding': 'gzip' }],
    ['JSON that is not valid UTF-8', Buffer.from('{"file_urls":["https://a.example/\xff\xfe.wav"]}', 'latin1'), {}],
    ['text that is not valid UTF-8', Buffer.from('https://a.example/\xc3\x28.wav\n', 'latin1'), { 'content-type': 'text/plain' }],
    [
      'gzip of bytes that are not UTF-8',
      gzipSync(Buffer.from('{"name":"\xff","file_urls":["https://a.example/1.wav"]}', 'latin1')),
      { 'content-encoding': 'gzip' },
    ],
  ])('when the body is %s, then 400 malformed-request and nothing written', async (_what, body, headers) => {
    const before = await jobState();
    const res = await post(body, { 'content-type': 'application/json', ...headers });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toMatchObject({ status: 400, type: 'https://batchscribe.dev/problems/malformed-request' });
    expect(await jobState()).toEqual(before);
  });

  it('when the body is real gzip of a valid job, then it is accepted', async () => {
    const res = await post(gzipSync(JSON.stringify({ file_urls: urls(1) })), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(res.status).toBe(202);
  });
});

describe('text lists', () => {
  it('when a line has a # comment after whitespace, then the URL is stored without it, and a # inside a URL stays', async () => {
    const res = await stack.request<Job>('POST', '/v1/jobs', {
      body: 'https://a.example/5.wav # trailing comment\nhttps://a.example/6.wav\t# tab before it\nhttps://a.example/7.wav#t=10\n',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(202);
    const results = await stack.request<{ data: Array<{ file_url: string }> }>('GET', `/v1/jobs/${res.body.id}/results`);
    expect(results.body.data.map((r) => r.file_url)).toEqual([
      'https://a.example/5.wav',
      'https://a.example/6.wav',
      'https://a.example/7.wav#t=10',
    ]);
  });

  it('when a line holds a space or a control character inside the URL, then 422 naming the line', async () => {
    const p = await expectRejected(
      {
        body: 'https://a.example/1.wav\nhttps://a.example/has space.wav\n# note\nhttps://a.example/x\u0007y.wav\n',
        headers: { 'content-type': 'text/plain' },
      },
      422,
      'validation-error',
    );
    expect(p.errors).toEqual([
      { path: 'file_urls.1', message: expect.stringContaining('line 2') },
      { path: 'file_urls.2', message: expect.stringContaining('line 4') },
    ]);
    expect(p.errors?.[0]?.message).toContain('whitespace');
    expect(p.errors?.[1]?.message).toContain('control character');
  });
});

describe('the Job echoes its upstream options', () => {
  it('when a job is submitted with language_hints, channel_id, recognition and diarization, then the Job shows them as given', async () => {
    const options = {
      language_hints: ['zh', 'en'],
      channel_id: [0, 1],
      recognition: { disfluency_removal_enabled: true },
      diarization: { enabled: true, speaker_count: 2 },
    };
    const created = await stack.submit({ file_urls: urls(1), ...options });
    expect(created).toMatchObject(options);
    expect((await stack.request<Job>('GET', `/v1/jobs/${created.id}`)).body).toMatchObject(options);
    const plain = await stack.submit({ file_urls: urls(1) });
    expect(plain).toMatchObject({ language_hints: null, channel_id: null, recognition: null, diarization: null });
  });
});

describe('long lists read from their bytes (docs/architecture.md, "Intake")', () => {
  const list = urls(250, 'bytes');

  /** A job's packed inputs, batch by batch, and the URLs its results list. */
  async function written(jobId: string): Promise<{ inputs: Array<string | null>; results: string[] }> {
    const keys = createKeyLayout(stack.prefix);
    const inputs = await Promise.all([0, 1, 2].map((b) => stack.redis.hget(keys.batch(jobId, b), 'f')));
    const page = await stack.request<{ data: Array<{ file_url: string }> }>('GET', `/v1/jobs/${jobId}/results?limit=1000`);
    return { inputs, results: page.body.data.map((r) => r.file_url) };
  }

  async function post(body: string, type: string): Promise<string> {
    const res = await stack.request<Job>('POST', '/v1/jobs', { body, headers: { 'content-type': type } });
    expect(res.status).toBe(202);
    expect(res.body.counts.total).toBe(250);
    return res.body.id;
  }

  it('when the same URLs come compact, pretty-printed, as lines and as indented lines, then every job stores byte for byte the same inputs', async () => {
    const forms = [
      [JSON.stringify({ file_urls: list }), 'application/json'],
      [JSON.stringify({ file_urls: list }, null, 2), 'application/json; charset=utf-8'],
      [list.join('\n'), 'text/plain'],
      [list.map((u) => `  ${u}  `).join('\r\n'), 'text/plain; charset=utf-8'],
    ] as const;
    const jobs = [];
    for (const [body, type] of forms) jobs.push(await written(await post(body, type)));
    const expected = { inputs: [0, 100, 200].map((from) => JSON.stringify(list.slice(from, from + 100))), results: list };
    for (const job of jobs) expect(job).toEqual(expected);
  });

  it('when a JSON body declares charset=utf8 (no dash), then it is still the 415 express.json gives it', async () => {
    await expectRejected(
      { body: JSON.stringify({ file_urls: list }), headers: { 'content-type': 'application/json; charset=utf8' } },
      415,
      'unsupported-media-type',
    );
  });

  it('when one URL of a compact list needs full parsing, then the 422 names it as before', async () => {
    const bad = [...list.slice(0, 10), 'https://a.example:99999/x.wav', ...list.slice(10, 20)];
    const p = await expectRejected(
      { body: JSON.stringify({ file_urls: bad }), headers: { 'content-type': 'application/json' } },
      422,
      'validation-error',
    );
    expect(fieldPaths(p)).toEqual(['file_urls.10']);
  });
});
