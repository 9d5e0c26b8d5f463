import { afterEach, describe, expect, it } from '@jest/globals';
import { startMetricsServer, type MetricsServer } from '../../apps/worker/src/metrics-server.js';
import { freePort } from '../../scripts/lib/local-redis.js';
import { spawnTs, stopProcess } from '../../scripts/lib/processes.js';
import { labelSets, promtoolCheck, sample } from '../support/prometheus-text.js';
import { Stack, urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

let stack: Stack | undefined;
let workerMetrics: MetricsServer | undefined;
afterEach(async () => {
  await workerMetrics?.close();
  await stack?.stop();
  stack = undefined;
  workerMetrics = undefined;
});

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The stack's first worker serving its registry as main.ts would (port 0: any free port). */
async function serveWorkerMetrics(s: Stack): Promise<string> {
  workerMetrics = await startMetricsServer(s.workers[0]!.metrics.registry, 0, '127.0.0.1');
  return `http://127.0.0.1:${workerMetrics.port}/metrics`;
}

function expectPromtoolPasses(text: string): void {
  const complaint = promtoolCheck(text);
  if (complaint !== 'skipped') expect(complaint).toBeNull();
}

describe('Prometheus metrics', () => {
  it('when jobs run, one of them through a 429 and an ambiguous submit, then api and worker metrics count it and pass promtool', async () => {
    // The first submit is answered 429 (Retry-After 1 s), the next 500: that batch ends as an
    // ambiguous submit; every later request goes through.
    stack = await Stack.start({
      sim: {
        faults: [
          { route: 'submit', status: 429, times: 1, retryAfterS: 1 },
          { route: 'submit', status: 500, times: 1 },
        ],
      },
    });
    const faulted = await stack.submit({ file_urls: urls(2, 'faulted') });
    expect((await stack.waitForJob(faulted.id)).status).toBe('failed');
    const clean = await stack.submit({ file_urls: urls(3, 'clean') });
    expect((await stack.waitForJob(clean.id)).status).toBe('completed');

    const worker = await scrape(await serveWorkerMetrics(stack));
    expect(sample(worker, 'batchscribe_foxapi_requests_total', { endpoint: 'submit', status: '429' })).toBe(1);
    expect(sample(worker, 'batchscribe_foxapi_requests_total', { endpoint: 'submit', status: '500' })).toBe(1);
    expect(sample(worker, 'batchscribe_foxapi_requests_total', { endpoint: 'submit', status: '200' })).toBe(1);
    expect(sample(worker, 'batchscribe_foxapi_requests_total', { endpoint: 'get_task', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(sample(worker, 'batchscribe_foxapi_request_duration_seconds_count', { endpoint: 'submit', status: '200' })).toBe(1);
    expect(sample(worker, 'batchscribe_foxapi_rate_limited_total', { endpoint: 'submit' })).toBe(1);
    expect(sample(worker, 'batchscribe_foxapi_backoff_seconds_count')).toBe(1);
    expect(sample(worker, 'batchscribe_foxapi_backoff_seconds_sum')).toBeCloseTo(1, 1);
    expect(sample(worker, 'batchscribe_ambiguous_submits_total', { action: 'failed' })).toBe(1);
    expect(sample(worker, 'batchscribe_batches_finished_total', { outcome: 'completed' })).toBe(1);
    expect(sample(worker, 'batchscribe_batches_finished_total', { outcome: 'failed' })).toBe(1);
    expect(sample(worker, 'batchscribe_files_finished_total', { outcome: 'completed' })).toBe(3);
    expect(sample(worker, 'batchscribe_files_finished_total', { outcome: 'failed' })).toBe(2);
    expect(sample(worker, 'batchscribe_webhook_deliveries_total', { outcome: 'delivered' })).toBeDefined();
    expect(sample(worker, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expectPromtoolPasses(worker);

    await stack.request('GET', '/v1/jobs/job_00000000000000000000000000');
    const api = await scrape(`${stack.apiUrl}/metrics`);
    expect(
      sample(api, 'batchscribe_http_request_duration_seconds_count', { method: 'GET', route: '/v1/jobs/:id', status_code: '200' }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(api, 'batchscribe_http_request_duration_seconds_count', { method: 'GET', route: '/v1/jobs/:id', status_code: '404' }),
    ).toBe(1);
    expect(sample(api, 'batchscribe_http_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs', status_code: '202' })).toBe(
      2,
    );
    // Route patterns, never raw paths: no job id may become a label value.
    expect(labelSets(api, 'batchscribe_http_request_duration_seconds_count').join('\n')).not.toMatch(/job_[0-9a-z]{26}/);
    expect(sample(api, 'batchscribe_queue_jobs', { queue: 'batches', state: 'active' })).toBe(0);
    expect(sample(api, 'batchscribe_queue_jobs', { queue: 'batches', state: 'prioritized' })).toBe(0);
    expect(sample(api, 'batchscribe_queue_oldest_waiting_seconds', { queue: 'batches' })).toBe(0);
    expect(sample(api, 'batchscribe_foxapi_tasks_inflight')).toBe(0);
    expect(sample(api, 'batchscribe_workers_alive')).toBe(1);
    expect(sample(api, 'batchscribe_foxapi_submits_paused')).toBe(0);
    expect(sample(api, 'batchscribe_foxapi_backoff_remaining_seconds')).toBe(0);
    expect(sample(api, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    // Usage counters come from Redis (the step that completed the files), so they match the Job.
    const cleanJob = (await stack.request<{ usage: { audio_seconds: number; billed_seconds: number } }>('GET', `/v1/jobs/${clean.id}`))
      .body;
    expect(sample(api, 'batchscribe_audio_seconds_total', { tenant: 'acme' })).toBeCloseTo(cleanJob.usage.audio_seconds, 3);
    expect(sample(api, 'batchscribe_billed_seconds_total', { tenant: 'acme' })).toBe(cleanJob.usage.billed_seconds);
    expect(sample(api, 'batchscribe_reused_files_total', { tenant: 'acme' })).toBe(0);
    expectPromtoolPasses(api);
  });

  it("when two workers finish jobs, then the api's /metrics shows their counters summed, and a worker that stops leaves the sum", async () => {
    stack = await Stack.start();
    const second = await stack.startWorker();
    const jobs = await Promise.all([1, 2, 3, 4].map((k) => stack!.submit({ file_urls: urls(5, `summed-${k}`) })));
    for (const job of jobs) expect((await stack.waitForJob(job.id)).status).toBe('completed');

    const perWorker = await Promise.all(
      stack.workers.map(async (w) =>
        sample(await w.metrics.registry.metrics(), 'batchscribe_files_finished_total', { outcome: 'completed' }),
      ),
    );
    expect(perWorker.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(20);
    // Snapshots travel with the heartbeat (1 s here): wait for both to carry the last batch.
    const api = await waitFor(
      async () => {
        const text = await scrape(`${stack!.apiUrl}/metrics`);
        return sample(text, 'batchscribe_files_finished_total', { outcome: 'completed' }) === 20 ? text : undefined;
      },
      { what: "the api's /metrics to sum both workers' files" },
    );
    expect(sample(api, 'batchscribe_foxapi_requests_total', { endpoint: 'submit', status: '200' })).toBe(4);
    expect(sample(api, 'batchscribe_batches_finished_total', { outcome: 'completed' })).toBe(4);
    expect(sample(api, 'batchscribe_foxapi_request_duration_seconds_count', { endpoint: 'submit', status: '200' })).toBe(4);
    expect(sample(api, 'batchscribe_webhook_deliveries_total', { outcome: 'delivered' })).toBe(0);
    // The api's own gauges are not doubled by the workers' snapshots, nor are process metrics mixed in.
    expect(sample(api, 'batchscribe_workers_alive')).toBe(2);
    expect(api.match(/^# TYPE process_cpu_user_seconds_total /gm)).toHaveLength(1);
    expectPromtoolPasses(api);

    const secondsShare = perWorker[1] ?? 0;
    await second.close();
    stack.workers.splice(stack.workers.indexOf(second), 1);
    const after = await scrape(`${stack.apiUrl}/metrics`);
    expect(sample(after, 'batchscribe_files_finished_total', { outcome: 'completed' })).toBe(20 - secondsShare);
  });

  it('when batches wait with no worker to take them, then the queue gauges show them and their age', async () => {
    stack = await Stack.start({ worker: false });
    await stack.submit({ file_urls: urls(1, 'waiting') });
    await stack.submit({ file_urls: urls(250, 'waiting-bulk') });
    const api = await waitFor(
      async () => {
        const text = await scrape(`${stack!.apiUrl}/metrics`);
        return (sample(text, 'batchscribe_queue_oldest_waiting_seconds', { queue: 'batches' }) ?? 0) >= 0.2 ? text : undefined;
      },
      { what: 'the oldest waiting batch to age' },
    );
    // Every batch carries a priority, so BullMQ keeps them all in `prioritized`.
    expect(sample(api, 'batchscribe_queue_jobs', { queue: 'batches', state: 'prioritized' })).toBe(4);
    expect(sample(api, 'batchscribe_queue_oldest_waiting_seconds', { queue: 'batches' })).toBeLessThan(30);
    expect(sample(api, 'batchscribe_workers_alive')).toBe(0);
  });

  it('when the worker process starts with WORKER_METRICS_PORT, then it serves its own /metrics there until SIGTERM', async () => {
    const port = await freePort();
    const worker = spawnTs('apps/worker/src/main.ts', {
      REDIS_URL: process.env.REDIS_URL!,
      QUEUE_PREFIX: `m${Date.now().toString(36)}`,
      FOXAPI_API_KEY: 'sk-sim',
      FOXAPI_BASE_URL: 'http://127.0.0.1:9',
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    try {
      const text = await waitFor(() => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => (r.ok ? r.text() : undefined)), {
        timeoutMs: 30_000,
        what: 'the worker metrics endpoint',
      });
      expect(sample(text, 'batchscribe_batches_finished_total', { outcome: 'completed' })).toBe(0);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expectPromtoolPasses(text);
    } finally {
      expect(await stopProcess(worker)).toBe(0);
    }
  });

  it("when the worker's metrics server is asked for anything but GET /metrics, then it answers 404", async () => {
    stack = await Stack.start();
    const url = await serveWorkerMetrics(stack);
    expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });

  it("when a worker died without a goodbye and nobody scrapes the api's /metrics, then the live workers' heartbeats drop its snapshot", async () => {
    stack = await Stack.start({ worker: false });
    const s = stack;
    const now = Date.now();
    const snapshot = (at: number) => JSON.stringify({ at, metrics: [] });
    await s.redis.hset(s.keys.workerMetrics, 'dead-worker', snapshot(now - 11 * 60_000), 'quiet-worker', snapshot(now - 60_000));
    await s.redis.zadd(s.keys.workers, now - 11 * 60_000, 'dead-worker', now - 60_000, 'quiet-worker');
    await s.startWorker({ heartbeatMs: 200 });
    await waitFor(async () => ((await s.redis.hexists(s.keys.workerMetrics, 'dead-worker')) === 0 ? true : undefined), {
      timeoutMs: 5_000,
      what: "the dead worker's snapshot to go",
    });
    // A worker silent for a minute may still come back: only the dead one's is gone.
    expect((await s.redis.hkeys(s.keys.workerMetrics)).sort()).toEqual(['quiet-worker', s.workers[0]!.id].sort());
  });
});
