import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { QUEUES, createKeyLayout, type FileResult, type Job } from '@batchscribe/shared';
import type { JobEventsHub } from '../../apps/api/src/events/job-events.hub.js';
import { loadApiEnv } from '../../apps/api/src/env.js';
import { createApp } from '../../apps/api/src/server.js';
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
    // Connected first, so the commands the app sends while being built (the rate-limit store's
    // SCRIPT LOAD) are answered before the QUIT below rather than rejected.
    await redis.ping();
    try {
      // Every optional part switched on, so every route module is mounted; the hub is only
      // called when a stream is opened, which this test never does.
      const env = loadApiEnv({ REDIS_URL: process.env.REDIS_URL!, API_KEYS: 'a:tok', ADMIN_TOKEN: 'admin-secret-1' });
      const app = createApp({ env, redis, keys, queue, logger: pino({ level: 'silent' }), schedulesQueue, jobEvents: {} as JobEventsHub });
      const served = expressRoutes(app, NOT_API);
      expect(served).toEqual(
        expect.arrayContaining(['POST /v1/jobs', 'GET /v1/jobs/{id}/events', 'POST /v1/schedules/{id}/run', 'GET /metrics']),
      );
      expect(documentedOperations(contract.doc)).toEqual(served);
    } finally {
      await schedulesQueue.close();
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
  });
});
