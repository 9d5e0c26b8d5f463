import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import {
  OutboundPolicy,
  QUEUES,
  createBlobStore,
  createKeyLayout,
  createOutboundAgent,
  type FileResult,
  type Job,
} from '@batchscribe/shared';
import type { JobEventsHub } from '../../apps/api/src/events/job-events.hub.js';
import { loadApiEnv } from '../../apps/api/src/env.js';
import { createApp } from '../../apps/api/src/server.js';
import { blobEnvFor } from '../support/blob-env.js';
import { OpenApiContract, documentedOperations, expressRoutes, type OpenApiDoc } from '../support/openapi-contract.js';
import { readSse } from '../support/sse-client.js';
import { Stack, TOKENS, urls } from '../support/stack.js';

/*
 * The OpenAPI document is generated from the zod schemas; these tests keep it honest: it is
 * valid OpenAPI 3.1, it names every route the app serves (and no other), and what the API
 * really answers during a full job run matches it.
 */

/** UIs mounted next to the API: not API operations. */
const NOT_API = ['/docs', '/admin/queues'];

let stack: Stack;
let contract: OpenApiContract;

beforeAll(async () => {
  stack = await Stack.start({ apiEnv: { ADMIN_TOKEN: 'admin-secret-1' } });
  const res = await stack.request<OpenApiDoc>('GET', '/openapi.json', { token: null });
  contract = new OpenApiContract(res.body);
});
afterAll(async () => {
  await stack.stop();
});

describe('the OpenAPI document', () => {
  it('when /openapi.json is read, then it is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(contract.doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('when the app routes a request, then the document describes that route, and describes no route the app lacks', async () => {
    const redis = new Redis(process.env.REDIS_URL!);
    const keys = createKeyLayout('routes-walk');
    const queue = new Queue(QUEUES.batches, { connection: redis, prefix: keys.bullPrefix });
    const schedulesQueue = new Queue(QUEUES.schedules, { connection: redis, prefix: keys.bullPrefix });
    const policy = new OutboundPolicy([]);
    const outbound = { policy, dispatcher: createOutboundAgent(policy) };
    // Connected first, so any command the app sends while being built is answered before the
    // QUIT below rather than rejected.
    await redis.ping();
    try {
      // Every optional part switched on, so every route module is mounted; the hub is only
      // called when a stream is opened, which this test never does.
      const env = loadApiEnv({ REDIS_URL: process.env.REDIS_URL!, API_KEYS: 'a:tok', ADMIN_TOKEN: 'admin-secret-1', ...blobEnvFor('fs') });
      const app = createApp({
        env,
        redis,
        keys,
        queue,
        blobs: createBlobStore(env),
        logger: pino({ level: 'silent' }),
        schedulesQueue,
        jobEvents: {} as JobEventsHub,
        outbound,
      });
      const served = expressRoutes(app, NOT_API);
      expect(served).toEqual(
        expect.arrayContaining(['POST /v1/jobs', 'GET /v1/jobs/{id}/events', 'POST /v1/schedules/{id}/run', 'GET /metrics']),
      );
      expect(documentedOperations(contract.doc)).toEqual(served);
    } finally {
      await schedulesQueue.close();
      await outbound.dispatcher.close();
      await queue.close();
      await redis.quit();
    }
  });

  it('when a body drifts from the document, then the contract check fails (the check itself works)', async () => {
    const res = await stack.request<Record<string, unknown>>('GET', '/v1/jobs?limit=1');
    const drifted = { ...res, body: { ...res.body, data: [{ id: 'job_x', surprise: true }] } };
    expect(() => contract.expectConforms('get', '/v1/jobs', drifted)).toThrow(/does not match/);
    expect(() => contract.expectConforms('get', '/v1/jobs', { ...res, status: 418 })).toThrow(/status not documented/);
  });

  it('when /docs is read, then it redirects to the swagger-ui page, which loads its assets from this server', async () => {
    const redirect = await fetch(`${stack.apiUrl}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');
    const page = await fetch(`${stack.apiUrl}/docs/`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg)/);
    // batchscribe's reference, not a Swagger-branded page: own title and icon, no Swagger top bar.
    expect(html).toContain('<title>batchscribe API reference</title>');
    expect(html).not.toContain('favicon-32x32.png');
    expect(html).toContain('.swagger-ui .topbar { display: none }');
    const bundle = await fetch(`${stack.apiUrl}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    await bundle.arrayBuffer();
  });
});

describe('real responses conform to the document', () => {
  it('when a job runs to completion and is read every way, then every answer matches its documented schema', async () => {
    const check = contract.expectConforms.bind(contract);
    const files = urls(3, 'contract');
    const created = await stack.request<Job>('POST', '/v1/jobs', {
      body: { files: files.map((url, i) => ({ url, ref: `r${i}` })), name: 'contract', metadata: { team: 'ops' } },
      headers: { 'idempotency-key': 'contract-1' },
    });
    check('post', '/v1/jobs', created);
    expect(created.status).toBe(202);
    const id = created.body.id;
    const replay = await stack.request('POST', '/v1/jobs', {
      body: { files: files.map((url, i) => ({ url, ref: `r${i}` })), name: 'contract', metadata: { team: 'ops' } },
      headers: { 'idempotency-key': 'contract-1' },
    });
    check('post', '/v1/jobs', replay);
    expect(replay.status).toBe(200);
    const text = await stack.request('POST', '/v1/jobs?name=plain', {
      body: `${files[0]}\n# comment\n`,
      headers: { 'content-type': 'text/plain' },
    });
    check('post', '/v1/jobs', text);

    const events = await readSse(`${stack.apiUrl}/v1/jobs/${id}/events`, { authorization: `Bearer ${TOKENS.acme}` });
    expect(events.status).toBe(200);
    expect(events.events.at(-1)?.event).toBe('end');
    for (const e of events.events.filter((ev) => ev.event === 'job' || ev.event === 'end'))
      contract.expectSchema('Job', JSON.parse(e.data));

    const job = await stack.waitForJob(id);
    expect(job.status).toBe('completed');
    check('get', '/v1/jobs/{id}', await stack.request('GET', `/v1/jobs/${id}`));
    check('get', '/v1/jobs', await stack.request('GET', '/v1/jobs?limit=2'));
    check('get', '/v1/jobs', await stack.request('GET', '/v1/jobs?status=completed'));
    const page = await stack.request<{ data: FileResult[] }>('GET', `/v1/jobs/${id}/results?limit=2`);
    check('get', '/v1/jobs/{id}/results', page);
    expect(page.body.data[0]?.transcript).not.toBeNull();
    check(
      'get',
      '/v1/jobs/{id}/results',
      await stack.request('GET', `/v1/jobs/${id}/results`, { headers: { accept: 'application/x-ndjson' } }),
    );
    for (const format of ['json', 'raw', 'txt', 'srt', 'vtt']) {
      const transcript = await stack.request('GET', `/v1/jobs/${id}/files/1/transcript?format=${format}`);
      expect(transcript.status).toBe(200);
      check('get', '/v1/jobs/{id}/files/{index}/transcript', transcript);
    }
    check('post', '/v1/jobs/{id}/cancel', await stack.request('POST', `/v1/jobs/${id}/cancel`));
    check('post', '/v1/jobs/{id}/retry', await stack.request('POST', `/v1/jobs/${id}/retry`));
    check('post', '/v1/jobs/{id}/webhook/redeliver', await stack.request('POST', `/v1/jobs/${id}/webhook/redeliver`));
    const deleted = await stack.request('DELETE', `/v1/jobs/${id}`);
    expect(deleted.status).toBe(204);
    check('delete', '/v1/jobs/{id}', deleted);
  });

  it('when requests are wrong, then each problem+json answer matches the problem documented for that status', async () => {
    const check = contract.expectConforms.bind(contract);
    const missing = 'job_00000000000000000000000000';
    const cases: Array<[method: string, template: string, path: string, opts: Parameters<Stack['request']>[2], status: number]> = [
      ['get', '/v1/jobs/{id}', `/v1/jobs/${missing}`, {}, 404],
      ['get', '/v1/jobs/{id}', `/v1/jobs/${missing}`, { token: 'wrong' }, 401],
      ['get', '/v1/jobs', '/v1/jobs?limit=0', {}, 400],
      ['post', '/v1/jobs', '/v1/jobs', { body: { file_urls: ['ftp://nope'] } }, 422],
      ['post', '/v1/jobs', '/v1/jobs', { body: '{"file_urls": [', headers: { 'content-type': 'application/json' } }, 400],
      ['post', '/v1/jobs', '/v1/jobs', { body: '<xml/>', headers: { 'content-type': 'application/xml' } }, 415],
      ['get', '/v1/jobs/{id}/files/{index}/transcript', `/v1/jobs/${missing}/files/0/transcript`, {}, 404],
      ['get', '/v1/schedules/{id}', '/v1/schedules/sch_00000000000000000000000000', {}, 404],
      ['post', '/v1/schedules', '/v1/schedules', { body: { name: 'x', cron: 'not a cron', file_urls: urls(1) } }, 422],
    ];
    for (const [method, template, path, opts, status] of cases) {
      const res = await stack.request(method.toUpperCase(), path, opts);
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} ${status}`);
      check(method, template, res);
    }
  });

  it('when limits refuse a request (413, 409, idempotency 422, 429), then each problem+json answer matches the document', async () => {
    const check = contract.expectConforms.bind(contract);
    const tight = await Stack.start({
      worker: false,
      apiEnv: { MAX_FILES_PER_JOB: '5', MAX_BODY_BYTES: '2000', INTAKE_RATE_LIMIT_PER_MIN: '4' },
    });
    try {
      const post = (body: unknown, headers: Record<string, string> = {}) => tight.request('POST', '/v1/jobs', { body, headers });
      const tooMany = await post({ file_urls: urls(6) });
      expect(tooMany.status).toBe(413);
      check('post', '/v1/jobs', tooMany);
      const tooBig = await post({ file_urls: [`https://media.example.com/${'a'.repeat(1_990)}.wav`] });
      expect(tooBig.status).toBe(413);
      check('post', '/v1/jobs', tooBig);
      const first = await post({ file_urls: urls(1) }, { 'idempotency-key': 'contract-1' });
      expect(first.status).toBe(202);
      const conflict = await post({ file_urls: urls(2) }, { 'idempotency-key': 'contract-1' });
      expect(conflict.status).toBe(422);
      check('post', '/v1/jobs', conflict);
      const limited = await post({ file_urls: urls(1) });
      expect(limited.status).toBe(429);
      check('post', '/v1/jobs', limited);
      const running = await tight.request('DELETE', `/v1/jobs/${(first.body as Job).id}`);
      expect(running.status).toBe(409);
      check('delete', '/v1/jobs/{id}', running);
    } finally {
      await tight.stop();
    }
  });

  it('when a schedule is created, listed, run and deleted, then each answer matches the document', async () => {
    const check = contract.expectConforms.bind(contract);
    const created = await stack.request<{ id: string }>('POST', '/v1/schedules', {
      body: { name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', file_urls: urls(2, 'nightly') },
    });
    check('post', '/v1/schedules', created);
    const id = created.body.id;
    check('get', '/v1/schedules', await stack.request('GET', '/v1/schedules'));
    check('get', '/v1/schedules/{id}', await stack.request('GET', `/v1/schedules/${id}`));
    const run = await stack.request<Job>('POST', `/v1/schedules/${id}/run`);
    check('post', '/v1/schedules/{id}/run', run);
    check('get', '/v1/schedules/{id}', await stack.request('GET', `/v1/schedules/${id}`));
    check('delete', '/v1/schedules/{id}', await stack.request('DELETE', `/v1/schedules/${id}`));
    await stack.waitForJob(run.body.id);
  });

  it('when the operations endpoints are read, then they match the document', async () => {
    const check = contract.expectConforms.bind(contract);
    check('get', '/healthz', await stack.request('GET', '/healthz', { token: null }));
    check('get', '/readyz', await stack.request('GET', '/readyz', { token: null }));
    check('get', '/metrics', await stack.request('GET', '/metrics', { token: null }));
    check('get', '/openapi.json', await stack.request('GET', '/openapi.json', { token: null }));
    // Without a worker's heartbeat the api is not ready: 503 with Retry-After, as documented.
    const workerless = await Stack.start({ worker: false });
    try {
      const notReady = await workerless.request('GET', '/readyz', { token: null });
      expect(notReady.status).toBe(503);
      expect(notReady.headers.get('retry-after')).not.toBeNull();
      check('get', '/readyz', notReady);
    } finally {
      await workerless.stop();
    }
  });
});

describe('the document states the rules the server applies', () => {
  const schemaOf = (name: string) => {
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(contract.doc as object, 'openapi');
    return ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
  };

  it('when a job request is checked against CreateJobRequest, then exactly one of file_urls/files, http(s) URLs and hints only with paraformer-v2 are required', () => {
    const valid = schemaOf('CreateJobRequest');
    const url = 'https://media.example.com/a.wav';
    expect(valid({ file_urls: [url] })).toBe(true);
    expect(valid({ files: [{ url, ref: 'a' }] })).toBe(true);
    expect(valid({ file_urls: ['HTTPS://media.example.com/a.wav'] })).toBe(true);
    expect(valid({ file_urls: [url], files: [{ url }] })).toBe(false);
    expect(valid({ name: 'no files' })).toBe(false);
    expect(valid({ file_urls: ['ftp://media.example.com/a.wav'] })).toBe(false);
    expect(valid({ file_urls: [url], callback_url: 'gopher://hooks.example.com' })).toBe(false);
    expect(valid({ file_urls: [url], model: 'paraformer-8k-v2', language_hints: ['zh'] })).toBe(false);
    expect(valid({ file_urls: [url], model: 'paraformer-8k-v2' })).toBe(true);
    expect(valid({ file_urls: [url], language_hints: ['zh'] })).toBe(true);
  });

  it('when a schedule request is checked against CreateScheduleRequest, then exactly one of manifest_url/file_urls and the hints rule of its job are required', () => {
    const valid = schemaOf('CreateScheduleRequest');
    const base = { name: 'nightly', cron: '0 3 * * *' };
    expect(valid({ ...base, manifest_url: 'https://files.example.com/list.txt' })).toBe(true);
    expect(valid({ ...base, file_urls: ['https://media.example.com/a.wav'] })).toBe(true);
    expect(valid({ ...base, manifest_url: 'https://files.example.com/list.txt', file_urls: ['https://media.example.com/a.wav'] })).toBe(
      false,
    );
    expect(valid(base)).toBe(false);
    expect(valid({ ...base, manifest_url: 'file:///etc/passwd' })).toBe(false);
    expect(valid({ ...base, file_urls: urls(1), job: { model: 'paraformer-8k-v2', language_hints: ['en'] } })).toBe(false);
  });

  it('when the document is read, then it has servers, public operations need no security, Idempotency-Key is non-empty and NDJSON is a text stream of FileResult lines', () => {
    const doc = contract.doc as unknown as {
      servers?: Array<{ url: string }>;
      paths: Record<string, Record<string, { security?: unknown[]; parameters?: Array<{ name: string; schema: { minLength?: number } }> }>>;
    };
    expect(doc.servers?.length).toBeGreaterThan(0);
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect(doc.paths[path]?.get?.security).toEqual([]);
    expect(doc.paths['/v1/jobs']?.post?.security).toEqual([{ bearerAuth: [] }]);
    const key = doc.paths['/v1/jobs']?.post?.parameters?.find((p) => p.name === 'idempotency-key');
    expect(key?.schema.minLength).toBe(1);
    const ndjson = contract.doc.paths['/v1/jobs/{id}/results']!.get!.responses['200']!.content!['application/x-ndjson'] as {
      schema: { type: string; 'x-ndjson-item': { $ref: string } };
    };
    expect(ndjson.schema.type).toBe('string');
    expect(ndjson.schema['x-ndjson-item'].$ref).toBe('#/components/schemas/FileResult');
  });

  it('when a response lacks a header the document requires, carries an API header it does not declare, or an NDJSON line drifts, then the check fails', async () => {
    const check = contract.expectConforms.bind(contract);
    const unauthorized = await stack.request('GET', '/v1/jobs', { token: 'wrong' });
    expect(unauthorized.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const withoutChallenge = new Headers(unauthorized.headers);
    withoutChallenge.delete('www-authenticate');
    expect(() => check('get', '/v1/jobs', { ...unauthorized, headers: withoutChallenge })).toThrow(/required header WWW-Authenticate/);

    const list = await stack.request('GET', '/v1/jobs?limit=1');
    const extra = new Headers(list.headers);
    extra.set('retry-after', '5');
    expect(() => check('get', '/v1/jobs', { ...list, headers: extra })).toThrow(/retry-after is sent but not documented/);

    const job = await stack.submit({ file_urls: urls(2, 'ndjson') });
    await stack.waitForJob(job.id);
    const stream = await stack.request('GET', `/v1/jobs/${job.id}/results`, { headers: { accept: 'application/x-ndjson' } });
    expect(stream.text.split('\n').filter(Boolean)).toHaveLength(2);
    const drifted = { ...stream, text: stream.text.replace('"index":0', '"index":"zero"'), body: '' };
    expect(() => check('get', '/v1/jobs/{id}/results', drifted)).toThrow(/line 1/);
  });

  it('when the api answers 429 or 503 with Retry-After and RateLimit headers, then the document declares them', async () => {
    const tight = await Stack.start({ worker: false, apiEnv: { INTAKE_RATE_LIMIT_PER_MIN: '1' } });
    try {
      const ok = await tight.request('POST', '/v1/jobs', { body: { file_urls: urls(1) } });
      expect(ok.headers.get('ratelimit')).not.toBeNull();
      expect(ok.headers.get('ratelimit-policy')).not.toBeNull();
      const limited = await tight.request('POST', '/v1/jobs', { body: { file_urls: urls(1) } });
      expect(limited.status).toBe(429);
      // The Stack's request helper validated both answers, headers included; the check also passes here explicitly.
      contract.expectConforms('post', '/v1/jobs', limited);
      const responses = contract.doc.paths['/v1/jobs']!.post!.responses;
      for (const status of ['202', '429', '503'])
        expect(Object.keys(responses[status]!.headers ?? {})).toEqual(expect.arrayContaining(['RateLimit']));
      expect(Object.keys(responses['429']!.headers ?? {})).toContain('Retry-After');
      expect(Object.keys(responses['503']!.headers ?? {})).toContain('Retry-After');
      expect(Object.keys(responses['401']!.headers ?? {})).toContain('WWW-Authenticate');
    } finally {
      await tight.stop();
    }
  });
});
