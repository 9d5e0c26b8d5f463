import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  FoxapiClient,
  QUEUES,
  UpstreamHealthStore,
  WorkerMetricsStore,
  createMetricsRegistry,
  type BatchJobPayload,
  type KeyLayout,
  type UpstreamProblem,
} from '@batchscribe/shared';
import { createBatchProcessor } from './batch.processor.js';
import type { WorkerEnv } from './env.js';
import { Parking } from './parking.js';
import { sweepIntake } from './intake-sweeper.js';
import { MeteredBatchStore, MeteredRateLimiter } from './metrics/metered.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { crashAt } from './pipeline/crash-points.js';
import { startScheduleFires } from './schedules/schedule-fires.js';
import { UpstreamHealth } from './upstream-health.js';
import { startWebhookDelivery } from './webhooks/webhook-delivery.js';

export interface WorkerRuntimeDeps {
  env: Readonly<WorkerEnv>;
  /** A worker-profile connection (maxRetriesPerRequest: null). */
  redis: Redis;
  keys: KeyLayout;
  logger: Logger;
  clock?: () => number;
  /** Intervals, shortened by tests. */
  heartbeatMs?: number;
  sweepMs?: number;
  webhookOutboxMs?: number;
  /** This process's Prometheus registry (main.ts makes it); default: a fresh one. */
  metricsRegistry?: Registry;
}

export interface WorkerRuntime {
  readonly id: string;
  readonly worker: Worker<BatchJobPayload>;
  /** This runtime's counters; `metrics.registry` is what the worker's /metrics serves. */
  readonly metrics: WorkerMetrics;
  /** One cheap authenticated request to foxapi: logs and records what is wrong (wrong key, unreachable), if anything. */
  checkUpstream(): Promise<Omit<UpstreamProblem, 'at'> | null>;
  /** Finishes the steps in progress, takes no new ones, releases every connection it made. */
  close(): Promise<void>;
}

/** Builds and starts one worker process's graph: BullMQ worker, heartbeat, intake sweeper. */
export async function startWorkerRuntime(deps: WorkerRuntimeDeps): Promise<WorkerRuntime> {
  const { env, redis, keys, logger } = deps;
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const metrics = new WorkerMetrics(deps.metricsRegistry ?? createMetricsRegistry());
  const upstream = new UpstreamHealth(id, new UpstreamHealthStore(redis, keys), env.FOXAPI_BASE_URL, logger);
  const foxapi = new FoxapiClient({
    baseUrl: env.FOXAPI_BASE_URL,
    apiKey: env.FOXAPI_API_KEY,
    timeoutMs: env.FOXAPI_TIMEOUT_MS,
    logger,
    onRequestEnd: (event) => {
      metrics.foxapiRequestEnded(event);
      upstream.observe(event);
    },
  });
  const store = new MeteredBatchStore(metrics, redis, keys, env.JOB_RETENTION_S);
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.batches, err }, 'queue error'));

  const pipeline = {
    redis,
    keys,
    store,
    foxapi,
    clock: deps.clock ?? Date.now,
    crash: crashAt(env.BATCHSCRIBE_CRASH_AT),
    limiter: new MeteredRateLimiter(metrics, redis, { tat: keys.rateTat, backoffUntil: keys.rateBackoff }, env.FOXAPI_MAX_RPS),
    metrics,
    config: {
      maxInflightTasks: env.FOXAPI_MAX_INFLIGHT_TASKS,
      submitRetryAmbiguous: env.SUBMIT_RETRY_AMBIGUOUS,
      pollMinMs: env.POLL_MIN_MS,
      pollMaxMs: env.POLL_MAX_MS,
      taskTimeoutMs: env.TASK_TIMEOUT_MS,
      foxapiTimeoutMs: env.FOXAPI_TIMEOUT_MS,
      submitLeaseMs: env.FOXAPI_TIMEOUT_MS + 5_000,
      backoff: { baseMs: env.FOXAPI_BACKOFF_BASE_MS, capMs: env.FOXAPI_BACKOFF_MAX_MS },
      pauseMs: env.SUBMIT_PAUSE_MS,
      pauseRecheckMs: env.SUBMIT_PAUSE_RECHECK_MS,
    },
  };

  const processor = createBatchProcessor(pipeline, logger, new Parking(redis, keys, queue));
  const worker = new Worker<BatchJobPayload>(QUEUES.batches, processor, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: env.WORKER_CONCURRENCY,
    lockDuration: env.WORKER_LOCK_MS,
    stalledInterval: Math.max(1_000, Math.floor(env.WORKER_LOCK_MS / 2)),
    // Steps are idempotent, so a batch whose worker died is simply taken over, however often.
    maxStalledCount: 1_000,
  });
  worker.on('error', (err) => logger.error({ queue: QUEUES.batches, err }, 'worker error'));
  worker.on('failed', (job, err) =>
    logger.error(
      { queue: QUEUES.batches, bullJobId: job?.id, jobId: job?.data.jobId, batch: job?.data.batch, attempt: job?.attemptsMade, err },
      'batch step failed',
    ),
  );

  const sharedMetrics = new WorkerMetricsStore(redis, keys);
  const beat = async () => {
    const now = Date.now();
    await redis.zadd(keys.workers, now, id);
    await redis.zremrangebyscore(keys.workers, '-inf', now - 10 * 60_000);
    await sharedMetrics.publish(id, metrics.registry, now);
    await upstream.refresh(foxapi);
  };
  const heartbeat = setInterval(
    () => void beat().catch((err: Error) => logger.warn({ err: err.message }, 'heartbeat failed')),
    deps.heartbeatMs ?? 10_000,
  );
  const sweeper = setInterval(
    () =>
      void sweepIntake({ redis, keys, queue, logger, graceMs: env.INTAKE_GRACE_MS }).catch((err: Error) =>
        logger.warn({ err: err.message }, 'intake sweep failed'),
      ),
    deps.sweepMs ?? env.INTAKE_SWEEP_MS,
  );
  const webhooks = startWebhookDelivery(
    { redis, keys, logger, onOutcome: (outcome) => metrics.webhookDelivery(outcome) },
    {
      secret: env.WEBHOOK_SECRET,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      backoffBaseMs: env.WEBHOOK_BACKOFF_BASE_MS,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      concurrency: env.WEBHOOK_CONCURRENCY,
      outboxMs: deps.webhookOutboxMs ?? 1_000,
    },
  );
  const scheduleFires = startScheduleFires(
    { redis, keys, logger, batches: queue },
    {
      batchSize: env.BATCH_SIZE,
      maxFiles: env.MAX_FILES_PER_JOB,
      manifestMaxBytes: env.MANIFEST_MAX_BYTES,
      manifestTimeoutMs: env.MANIFEST_TIMEOUT_MS,
    },
  );
  await beat();
  logger.info(
    { workerId: id, foxapi: env.FOXAPI_BASE_URL, concurrency: env.WORKER_CONCURRENCY, maxRps: env.FOXAPI_MAX_RPS },
    'worker started',
  );

  return {
    id,
    worker,
    metrics,
    checkUpstream: () => upstream.checkAtStart(foxapi),
    close: async () => {
      clearInterval(heartbeat);
      clearInterval(sweeper);
      // Fires enqueue batches: they stop before the batch queue closes.
      await scheduleFires.close();
      await webhooks.close();
      await worker.close();
      await queue.close();
      await foxapi.close();
      await redis.zrem(keys.workers, id).catch(() => undefined);
      await sharedMetrics.withdraw(id).catch(() => undefined);
      await upstream.withdraw().catch(() => undefined);
    },
  };
}
