import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { QUEUES, type Job } from '@batchscribe/shared';
import { HttpFixture, type ReceivedRequest } from '../support/http-fixture.js';
import { Stack, TOKENS, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let stack: Stack | undefined;
let receiver: HttpFixture | undefined;
afterEach(async () => {
  await stack?.stop();
  await receiver?.close();
  stack = receiver = undefined;
});

/** Starts the stack with the same secret on both sides and fast retries. */
async function start(workerEnv: Record<string, string> = {}, sim = {}): Promise<Stack> {
  return Stack.start({
    sim,
    apiEnv: { WEBHOOK_SECRET: SECRET },
    workerEnv: { WEBHOOK_SECRET: SECRET, WEBHOOK_BACKOFF_BASE_MS: '50', WEBHOOK_TIMEOUT_MS: '2000', ...workerEnv },
  });
}

/**
 * Standard Webhooks, checked by hand with node:crypto rather than the library that signed:
 * HMAC-SHA256 over `${id}.${timestamp}.${body}` keyed by the base64 secret after `whsec_`.
 */
function signatureIsValid(req: ReceivedRequest, secret = SECRET): boolean {
  const id = String(req.headers['webhook-id']);
  const timestamp = String(req.headers['webhook-timestamp']);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${req.body}`).digest('base64'));
  return String(req.headers['webhook-signature'])
    .split(' ')
    .some((sig) => {
      const [version, value] = sig.split(',');
      const given = Buffer.from(value ?? '');
      return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const webhookOf = async (s: Stack, id: string) => (await s.request<Job>('GET', `/v1/jobs/${id}`)).body.webhook;

describe('signed webhooks', () => {
  it('when a job with callback_url completes, then one signed job.completed arrives and the job shows it delivered', async () => {
    receiver = await HttpFixture.start();
    stack = await start();
    const created = await stack.submit({ file_urls: urls(3), callback_url: `${receiver.url}/hooks/batchscribe` });
    expect(created.webhook).toBeNull();

    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'delivered');
    expect(job.webhook).toEqual({ status: 'delivered', attempts: 1, last_error: null });
    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received as [ReceivedRequest];
    expect(hook.method).toBe('POST');
    expect(hook.path).toBe('/hooks/batchscribe');
    expect(hook.headers['content-type']).toBe('application/json');
    expect(signatureIsValid(hook)).toBe(true);
    expect(signatureIsValid(hook, 'whsec_' + Buffer.from('another secret').toString('base64'))).toBe(false);
    expect(hook.headers['webhook-id']).toBe(`msg_${job.id}_${Date.parse(job.finished_at!)}`);
    expect(Math.abs(Number(hook.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);

    const event = JSON.parse(hook.body) as { type: string; timestamp: string; data: Job };
    expect(event.type).toBe('job.completed');
    expect(event.timestamp).toBe(job.finished_at);
    expect(event.data).toMatchObject({ id: job.id, status: 'completed', counts: { total: 3, completed: 3 } });
    // Recording the outcome kept the finished job's retention TTL.
    expect(await stack.redis.ttl(stack.keys.job(job.id))).toBeGreaterThan(0);
    expect(await stack.redis.zcard(stack.keys.webhookOutbox)).toBe(0);
  });

  it('when the receiver answers 500 twice, then it is retried with the same webhook-id and delivered on the third attempt', async () => {
    let seenWhileRetrying: Job['webhook'] = null;
    receiver = await HttpFixture.start(async (_req, res, n) => {
      if (n === 1) seenWhileRetrying = await webhookOf(stack!, createdId);
      res.writeHead(n < 2 ? 500 : 200).end('ok');
    });
    stack = await start();
    const createdId = (await stack.submit({ file_urls: urls(1), callback_url: receiver.url })).id;

    const job = await stack.waitForJob(createdId, (j) => j.webhook?.status === 'delivered');
    expect(job.webhook).toEqual({ status: 'delivered', attempts: 3, last_error: null });
    expect(seenWhileRetrying).toEqual({ status: 'pending', attempts: 1, last_error: 'the receiver answered HTTP 500' });
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(receiver.received.every((r) => signatureIsValid(r))).toBe(true);
    // Back-off: each retry came later than the one before it, with a growing gap.
    const [a, b, c] = receiver.received.map((r) => r.at) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(20);
    expect(c - b).toBeGreaterThanOrEqual(40);
    const metrics = await stack.workers[0]!.metrics.registry.getSingleMetricAsString('batchscribe_webhook_deliveries_total');
    expect(metrics).toContain('batchscribe_webhook_deliveries_total{outcome="retry"} 2');
    expect(metrics).toContain('batchscribe_webhook_deliveries_total{outcome="delivered"} 1');
  });

  it('when the receiver answers 410, then delivery stops at once and the webhook is failed', async () => {
    receiver = await HttpFixture.start((_req, res) => void res.writeHead(410).end());
    stack = await start();
    const created = await stack.submit({ file_urls: urls(1), callback_url: receiver.url });
    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'failed');
    expect(job.webhook).toMatchObject({ status: 'failed', attempts: 1 });
    expect(job.webhook?.last_error).toMatch(/410/);
    const queue = new Queue(QUEUES.webhooks, { connection: stack.redis, prefix: stack.keys.bullPrefix });
    try {
      await waitFor(async () => ((await queue.getJobCounts('completed')).completed === 1 ? true : undefined));
      expect(await queue.getJobCounts('wait', 'delayed', 'active', 'failed')).toEqual({ wait: 0, delayed: 0, active: 0, failed: 0 });
    } finally {
      await queue.close();
    }
    expect(receiver.received).toHaveLength(1);
  });

  it('when every attempt times out, then it gives up after WEBHOOK_MAX_ATTEMPTS with the reason recorded', async () => {
    receiver = await HttpFixture.start(() => undefined); // never answers
    stack = await start({ WEBHOOK_MAX_ATTEMPTS: '2', WEBHOOK_TIMEOUT_MS: '300' });
    const created = await stack.submit({ file_urls: urls(1), callback_url: receiver.url });
    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'failed');
    expect(job.webhook).toEqual({ status: 'failed', attempts: 2, last_error: 'no answer within 300 ms' });
    expect(receiver.received).toHaveLength(2);
  });

  it('when nothing listens on the callback port, then last_error says the connection was refused and names no address or port', async () => {
    const closed = await HttpFixture.start();
    await closed.close(); // its port is now free: connections to it are refused
    stack = await start({ WEBHOOK_MAX_ATTEMPTS: '1' });
    const created = await stack.submit({ file_urls: urls(1), callback_url: `${closed.url}/hook` });
    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'failed');
    expect(job.webhook).toEqual({ status: 'failed', attempts: 1, last_error: 'the receiver could not be reached: connection refused' });
    expect(JSON.stringify(job)).not.toMatch(/ECONNREFUSED/);
  });

  it('when a delivered webhook is redelivered, then the same webhook-id arrives again and attempts keep counting', async () => {
    receiver = await HttpFixture.start();
    stack = await start();
    const created = await stack.submit({ file_urls: urls(2), callback_url: receiver.url });
    await stack.waitForJob(created.id, (j) => j.webhook?.status === 'delivered');

    const res = await stack.request<Job>('POST', `/v1/jobs/${created.id}/webhook/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body.webhook).toEqual({ status: 'pending', attempts: 1, last_error: null });
    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'delivered' && j.webhook.attempts === 2);
    expect(job.webhook?.last_error).toBeNull();
    expect(receiver.received).toHaveLength(2);
    const [first, second] = receiver.received as [ReceivedRequest, ReceivedRequest];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(signatureIsValid(second)).toBe(true);
    expect((JSON.parse(second.body) as { type: string }).type).toBe('job.completed');

    expect((await stack.request('POST', `/v1/jobs/${created.id}/webhook/redeliver`, { token: TOKENS.globex })).status).toBe(404);
  });

  it('when redelivery is asked of a running job or one without callback_url, then 409', async () => {
    receiver = await HttpFixture.start();
    stack = await start({}, { taskDurationMs: 2_000 });
    const running = await stack.submit({ file_urls: urls(1), callback_url: receiver.url });
    const early = await stack.request<{ type: string }>('POST', `/v1/jobs/${running.id}/webhook/redeliver`);
    expect(early.status).toBe(409);
    expect(early.body.type).toMatch(/\/conflict$/);
    await stack.request('POST', `/v1/jobs/${running.id}/cancel`);

    const plain = await stack.submit({ file_urls: urls(1) });
    await stack.waitForJob(plain.id);
    expect((await stack.request('POST', `/v1/jobs/${plain.id}/webhook/redeliver`)).status).toBe(409);
  });

  it('when a queued job is cancelled, then job.cancelled is sent', async () => {
    receiver = await HttpFixture.start();
    stack = await Stack.start({ worker: false, apiEnv: { WEBHOOK_SECRET: SECRET }, workerEnv: { WEBHOOK_SECRET: SECRET } });
    const created = await stack.submit({ file_urls: urls(150), callback_url: receiver.url });
    expect((await stack.request('POST', `/v1/jobs/${created.id}/cancel`)).status).toBe(202);
    // The outbox holds it until a worker is there to deliver.
    expect(await stack.redis.zscore(stack.keys.webhookOutbox, created.id)).toBe('0');
    await stack.startWorker();

    const job = await stack.waitForJob(created.id, (j) => j.webhook?.status === 'delivered');
    expect(job.status).toBe('cancelled');
    const [hook] = receiver.received as [ReceivedRequest];
    expect(signatureIsValid(hook)).toBe(true);
    const event = JSON.parse(hook.body) as { type: string; data: Job };
    expect(event.type).toBe('job.cancelled');
    expect(event.data.counts).toMatchObject({ total: 150, cancelled: 150 });
  });
});
