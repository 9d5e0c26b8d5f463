import { afterEach, describe, expect, it } from '@jest/globals';
import { capturedLogger } from '../support/captured-logger.js';
import { HttpFixture } from '../support/http-fixture.js';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/** Known secrets, unlike any other string a run could log. */
const SECRETS = {
  bearer: 'tok-bearer-Zq81mXr7Vb',
  foxapiKey: 'sk-foxapi-Hn42pQw9Lc',
  webhookSecret: 'whsec_bG9nc2VjcmV0bG9nc2VjcmV0MTIzNA==',
  adminToken: 'adm-Kp39vLx2Qa',
};
const ADMIN_BASIC = Buffer.from(`ops:${SECRETS.adminToken}`).toString('base64');

let stack: Stack | undefined;
let receiver: HttpFixture | undefined;
afterEach(async () => {
  await stack?.stop();
  await receiver?.close();
  stack = undefined;
  receiver = undefined;
});

describe('logs', () => {
  it('when a full job runs with a webhook and the dashboard is opened, then no secret appears in any log line, and job lines carry their ids', async () => {
    const logs = capturedLogger();
    receiver = await HttpFixture.start();
    stack = await Stack.start({
      logger: logs.logger,
      sim: { apiKeys: [SECRETS.foxapiKey] },
      apiEnv: { API_KEYS: `acme:${SECRETS.bearer}`, WEBHOOK_SECRET: SECRETS.webhookSecret, ADMIN_TOKEN: SECRETS.adminToken },
      workerEnv: { FOXAPI_API_KEY: SECRETS.foxapiKey, WEBHOOK_SECRET: SECRETS.webhookSecret },
    });
    const created = await stack.request<{ id: string }>('POST', '/v1/jobs', {
      token: SECRETS.bearer,
      body: { file_urls: urls(3, 'logs'), callback_url: `${receiver.url}/hook` },
    });
    expect(created.status).toBe(202);
    const jobId = created.body.id;
    await waitFor(
      async () => {
        const res = await stack!.request<{ webhook: { status: string } | null }>('GET', `/v1/jobs/${jobId}`, { token: SECRETS.bearer });
        return res.body.webhook?.status === 'delivered' ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'the webhook to be delivered' },
    );
    expect((await fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: `Basic ${ADMIN_BASIC}` } })).status).toBe(200);
    expect((await stack.request('GET', `/v1/jobs/${jobId}`, { token: 'a-wrong-token' })).status).toBe(401);

    const text = logs.text();
    const lines = logs.lines();
    expect(lines.length).toBeGreaterThan(20);
    for (const [name, secret] of Object.entries({
      ...SECRETS,
      webhookKey: SECRETS.webhookSecret.slice('whsec_'.length),
      adminBasic: ADMIN_BASIC,
    })) {
      expect(`${name}: ${text.includes(secret) ? 'FOUND in logs' : 'absent'}`).toBe(`${name}: absent`);
    }

    // pino-http's request lines name the request, never its headers (where tokens travel).
    const requestLines = lines.filter((l) => l.req && l.msg === 'request completed');
    expect(requestLines.length).toBeGreaterThan(3);
    expect(requestLines.filter((l) => l.req!.headers !== undefined)).toEqual([]);
    expect(requestLines.every((l) => typeof l.req!.id === 'string' && typeof l.req!.url === 'string')).toBe(true);

    // Lines about the job and its batch carry the ids an operator greps for.
    const byMsg = (msg: string) => lines.filter((l) => l.msg === msg);
    expect(byMsg('job created').map((l) => l.jobId)).toEqual([jobId]);
    const submitted = byMsg('batch submitted');
    expect(submitted).toHaveLength(1);
    expect(submitted[0]).toMatchObject({ jobId, batch: 0, taskId: expect.any(String) });
    expect(byMsg('batch completed')[0]).toMatchObject({ jobId, batch: 0, taskId: submitted[0]!.taskId });
    expect(byMsg('webhook delivered')[0]).toMatchObject({ jobId });
    // And not only those: every line about a batch names its job, and every line about a foxapi
    // task names its job and batch.
    const aboutBatch = lines.filter((l) => l.batch !== undefined);
    expect(aboutBatch.length).toBeGreaterThan(2);
    expect(aboutBatch.filter((l) => l.jobId !== jobId).map((l) => l.msg)).toEqual([]);
    const aboutTask = lines.filter((l) => l.taskId !== undefined);
    expect(aboutTask.length).toBeGreaterThan(1);
    expect(aboutTask.filter((l) => l.jobId !== jobId || l.batch !== 0).map((l) => l.msg)).toEqual([]);
  });

  it("when a text/plain job names a callback_url carrying the receiver's secret, then request lines keep the parameter and drop its value", async () => {
    const logs = capturedLogger();
    stack = await Stack.start({ logger: logs.logger, worker: false });
    const receiverSecret = 'rcv-Tq93Lm28Xw';
    const callback = `https://hooks.example.com/batchscribe/${receiverSecret}?token=${receiverSecret}`;
    for (const name of ['callback_url', 'callback%5Furl']) {
      const res = await stack.request('POST', `/v1/jobs?model=paraformer-v2&${name}=${encodeURIComponent(callback)}&name=plain`, {
        body: urls(2, 'plain').join('\n'),
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(202);
      expect((res.body as { callback_url: string }).callback_url).toBe(callback);
    }

    expect(logs.text()).not.toContain(receiverSecret);
    const intake = logs.lines().filter((l) => l.msg === 'request completed' && l.req?.url?.startsWith('/v1/jobs?'));
    expect(intake.map((l) => l.req!.url)).toEqual([
      '/v1/jobs?model=paraformer-v2&callback_url=[redacted]&name=plain',
      '/v1/jobs?model=paraformer-v2&callback%5Furl=[redacted]&name=plain',
    ]);
  });
});
