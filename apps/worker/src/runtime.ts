import { availableParallelism, hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import pLimit from 'p-limit';
import type { Registry } from 'prom-client';
import {
  FoxapiBudget,
  FoxapiClient,
  IntakeRateLimit,
  JobStore,
  OutboundPolicy,
  QUEUES,
  TranscriptStore,
  UpstreamHealthStore,
  UploadStore,
  UsageStore,
  WorkerMetricsStore,
  WriteDurability,
  checkDurabilitySupport,
  foxapiRateKeys,
  createMetricsRegistry,
  createFireScheduleDeps,
  createFoxapiAgent,
  createOutboundAgent,
  createThreadPreparer,
  migrateLegacyFiles,
  migrateLegacyTranscripts,
  enqueueBatches,
  resolveMediaHandoff,
  type BatchJobPayload,
  type BlobStore,
  type KeyLayout,
  type OutboundAgentOptions,
  type Priority,
  type UpstreamProblem,
} from '@batchscribe/shared';
import { sweepBlobs } from './blob-sweeper.js';
import { createBatchProcessor } from './batch.processor.js';
import { durabilitySettings, type WorkerEnv } from './env.js';
import { TaskSlotWaitlist } from './task-slot-waitlist.js';
import { sweepIntake } from './intake-sweeper.js';
import { MeteredBatchStore, MeteredRateLimiter } from './metrics/metered.js';
import { WorkerMetrics } from './metrics/worker-metrics.js';
import { noCrash, type Crash, type TestHook } from './pipeline/crash-points.js';
import { startScheduleFires } from './schedules/schedule-fires.js';
import { UpstreamHealth } from './upstream-health.js';
import { startWebhookDelivery } from './webhooks/webhook-delivery.js';

export interface WorkerRuntimeDeps {
  env: Readonly<WorkerEnv>;
  /** A worker-profile connection (maxRetriesPerRequest: null). */
  redis: Redis;
  keys: KeyLayout;
  /** Where transcripts go (BLOB_STORE); the runtime uses it and its owner closes it. */
  blobs: BlobStore;
  logger: Logger;
  clock?: () => number;
  /** Intervals, shortened by tests. */
  heartbeatMs?: number;
  sweepMs?: number;
  webhookOutboxMs?: number;
  blobSweepMs?: number;
  /** This process's Prometheus registry (main.ts makes it); default: a fresh one. */
  metricsRegistry?: Registry;
  /** The resolver outbound sockets (webhooks, manifests) use; tests inject one to play a rebinding DNS server. */
  outboundLookup?: OutboundAgentOptions['lookup'];
  /** In-process tests only: awaited at failpoints of the batch cycle. */
  testHook?: TestHook;
  /** The crash tests' entry point only (test/support/crashing-worker.main.ts): kills the process at a failpoint. */
  crash?: Crash;
}

/** A worker's heartbeat (and its metrics snapshot) older than this belongs to a dead worker. */
const DEAD_WORKER_MS = 10 * 60_000;

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

/**
 * Builds and starts one worker process's graph: BullMQ worker, heartbeat, intake sweeper.
 * Rejects with DurabilityUnsupportedError when Redis cannot give REDIS_DURABILITY.
 */
export async function startWorkerRuntime(deps: WorkerRuntimeDeps): Promise<WorkerRuntime> {
  const { env, redis, keys, logger } = deps;
  const durabilityWanted = durabilitySettings(env);
  for (const warning of await checkDurabilitySupport(redis, durabilityWanted)) logger.warn({ durability: durabilityWanted }, warning);
  // WAIT blocks the connection it is sent on: claims get their own, so polls never queue behind it.
  const durability = durabilityWanted.mode === 'none' ? null : new WriteDurability(redis.duplicate(), durabilityWanted);
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const metrics = new WorkerMetrics(deps.metricsRegistry ?? createMetricsRegistry());
  const upstream = new UpstreamHealth(id, new UpstreamHealthStore(redis, keys), env.FOXAPI_BASE_URL, logger);
  // Every undici Agent of the worker is made here and closed by close(): foxapi's, and the outbound one below.
  const foxapiAgent = createFoxapiAgent(env.FOXAPI_TIMEOUT_MS);
  const foxapi = new FoxapiClient({
    dispatcher: foxapiAgent,
    baseUrl: env.FOXAPI_BASE_URL,
    apiKey: env.FOXAPI_API_KEY,
    timeoutMs: env.FOXAPI_TIMEOUT_MS,
    logger,
    onRequestEnd: (event) => {
      metrics.foxapiRequestEnded(event);
      upstream.observe(event);
    },
  });
  const store = new MeteredBatchStore(metrics, redis, keys, env.JOB_RETENTION_S, durability);
  const transcripts = new TranscriptStore(deps.blobs, env.QUEUE_PREFIX);
  // Threads for parsing and compressing result documents: as many as documents in flight, up to the cores.
  const preparer = createThreadPreparer(Math.max(1, Math.min(env.WORKER_DOCUMENTS_IN_FLIGHT, availableParallelism())));
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.batches, err }, 'queue error'));

  const mediaHandoff = resolveMediaHandoff(env.MEDIA_HANDOFF, deps.blobs.kind);
  // One clock for the steps, the heartbeat and the sweeps: a test that moves it moves them all.
  const clock = deps.clock ?? Date.now;
  const pipeline = {
    redis,
    keys,
    store,
    transcripts,
    usage: new UsageStore(redis, keys),
    preparer,
    documents: pLimit(env.WORKER_DOCUMENTS_IN_FLIGHT),
    foxapi,
    enqueue: (jobId: string, batches: number[], priority: Priority) => enqueueBatches(queue, jobId, batches, priority),
    clock,
    crash: deps.crash ?? noCrash,
    testHook: deps.testHook,
    limiter: new MeteredRateLimiter(metrics, redis, foxapiRateKeys(keys), env.FOXAPI_MAX_RPS),
    metrics,
    media: {
      mode: mediaHandoff,
      blobs: deps.blobs,
      uploads: new UploadStore(redis, keys),
      queuePrefix: env.QUEUE_PREFIX,
    },
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
      resultMaxBytes: env.RESULT_MAX_BYTES,
      budgets: env.TENANT_BUDGETS,
      budgetRecheckMs: env.BUDGET_RECHECK_MS,
    },
  };

  const processor = createBatchProcessor(pipeline, logger, new TaskSlotWaitlist(redis, keys, queue), queue);
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

  // Webhooks and manifests go to tenants' URLs: every address they dial is checked by the policy.
  const outboundPolicy = new OutboundPolicy(env.OUTBOUND_ALLOWED_NETS);
  const outboundAgent = createOutboundAgent(outboundPolicy, {
    connectTimeoutMs: Math.max(env.WEBHOOK_TIMEOUT_MS, env.MANIFEST_TIMEOUT_MS),
    ...(deps.outboundLookup ? { lookup: deps.outboundLookup } : {}),
  });
  const outbound = { policy: outboundPolicy, dispatcher: outboundAgent };

  const sharedMetrics = new WorkerMetricsStore(redis, keys);
  const budget = new FoxapiBudget(redis, keys);
  const beat = async () => {
    const now = clock();
    await budget.heartbeat(id, now, DEAD_WORKER_MS);
    await sharedMetrics.publish(id, metrics.registry, now);
    await sharedMetrics.prune(now, DEAD_WORKER_MS);
    await upstream.refresh(foxapi);
  };
  const heartbeat = setInterval(
    () => void beat().catch((err: Error) => logger.warn({ err: err.message }, 'heartbeat failed')),
    deps.heartbeatMs ?? 10_000,
  );
  // Cancels, retries and deletes whose api process died half-way are finished by the sweep.
  const jobActions = new JobStore(redis, keys, {
    retentionS: env.JOB_RETENTION_S,
    batchSize: env.BATCH_SIZE,
    enqueue: (jobId, batches, priority) => enqueueBatches(queue, jobId, batches, priority),
  });
  const sweeper = setInterval(
    () =>
      void sweepIntake({ redis, keys, queue, logger, jobs: jobActions, graceMs: env.INTAKE_GRACE_MS, now: clock() }).catch((err: Error) =>
        logger.warn({ err: err.message }, 'intake sweep failed'),
      ),
    deps.sweepMs ?? env.INTAKE_SWEEP_MS,
  );
  const blobSweepMs = deps.blobSweepMs ?? env.BLOB_SWEEP_MS;
  const blobSweeper = setInterval(
    () =>
      void sweepBlobs({ redis, keys, transcripts, logger, lockMs: blobSweepMs }).catch((err: Error) =>
        logger.warn({ err: err.message }, 'blob sweep failed'),
      ),
    blobSweepMs,
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
      dispatcher: outboundAgent,
    },
  );
  const fire = createFireScheduleDeps({
    redis,
    keys,
    batches: queue,
    batchSize: env.BATCH_SIZE,
    maxFiles: env.MAX_FILES_PER_JOB,
    manifestMaxBytes: env.MANIFEST_MAX_BYTES,
    manifestTimeoutMs: env.MANIFEST_TIMEOUT_MS,
    outbound,
    intakeLimit: new IntakeRateLimit(redis, keys, env.INTAKE_RATE_LIMIT_PER_MIN),
  });
  const scheduleFires = startScheduleFires({ fire, redis, keys, logger });
  await beat();
  // Deployments upgraded from releases that kept a record per file, or transcripts in Redis: moved in the background.
  const migration = migrateLegacyFiles({ redis, keys, logger })
    .then((packed) => {
      if (packed.jobs > 0) logger.info(packed, 'file records packed into batch records');
    })
    .catch((err: Error) => logger.warn({ err: err.message }, 'packing file records into batch records failed; the next start retries'))
    .then(() => migrateLegacyTranscripts({ redis, queuePrefix: env.QUEUE_PREFIX, transcripts, preparer, logger }))
    .then((moved) => {
      if (moved.files > 0) logger.info(moved, 'transcripts moved from Redis to the blob store');
    })
    .catch((err: Error) =>
      logger.warn({ err: err.message }, 'moving transcripts from Redis to the blob store failed; the next start retries'),
    );
  logger.info(
    {
      workerId: id,
      foxapi: env.FOXAPI_BASE_URL,
      concurrency: env.WORKER_CONCURRENCY,
      maxRps: env.FOXAPI_MAX_RPS,
      durability: durabilityWanted.mode,
      blobStore: deps.blobs.kind,
      mediaHandoff,
      tenantBudgets: Object.fromEntries(env.TENANT_BUDGETS),
    },
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
      clearInterval(blobSweeper);
      await migration;
      // Fires enqueue batches: they stop before the batch queue closes.
      await scheduleFires.close();
      await webhooks.close();
      await worker.close();
      await queue.close();
      await foxapi.close();
      await foxapiAgent.close();
      await preparer.close();
      await outboundAgent.close();
      await budget.removeWorker(id).catch(() => undefined);
      await sharedMetrics.withdraw(id).catch(() => undefined);
      if (durability) await durability.connection.quit().catch(() => durability.connection.disconnect());
      await upstream.withdraw().catch(() => undefined);
    },
  };
}
