import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import {
  ClaimStore,
  IntakeRateLimit,
  JobReader,
  type ManifestFetcher,
  TranscriptStore,
  UploadStore,
  UsageStore,
  createFireScheduleDeps,
  createMetricsRegistry,
  type BatchJobPayload,
  type BlobStore,
  type KeyLayout,
  type OutboundPolicy,
  type ScheduleFirePayload,
} from '@batchscribe/shared';
import type { ApiEnv } from './env.js';
import { bearerAuth } from './http/auth.js';
import { IntakeAdmission } from './http/intake-admission.js';
import { intakeRateLimit } from './http/intake-rate-limit.js';
import { urlForLog } from './http/log-url.js';
import { ProblemError, problemHandler } from './http/problem.js';
import { healthRoutes } from './health.routes.js';
import { JobActions } from './jobs/job-actions.js';
import { jobsRoutes } from './jobs/jobs.routes.js';
import { resultsRoutes } from './jobs/results.routes.js';
import { jobEventsRoutes } from './events/job-events.routes.js';
import type { JobEventsHub } from './events/job-events.hub.js';
import { ScheduleActions } from './schedules/schedule-actions.js';
import { schedulesRoutes } from './schedules/schedules.routes.js';
import { webhooksRoutes } from './webhooks/webhooks.routes.js';
import { httpMetrics } from './metrics/http-metrics.js';
import { operationsRoutes } from './operations.routes.js';
import { createUploadsModule, type UploadsModule } from './uploads/uploads-module.js';
import { usageRoutes } from './usage/usage.routes.js';

export interface ApiDeps {
  env: Readonly<ApiEnv>;
  redis: Redis;
  keys: KeyLayout;
  /** Where transcripts are read from (BLOB_STORE); its owner closes it. */
  blobs: BlobStore;
  queue: Queue<BatchJobPayload>;
  logger: Logger;
  /** The queue the schedules' BullMQ job schedulers live on; without it /v1/schedules is not served. */
  schedulesQueue?: Queue<ScheduleFirePayload>;
  /** Live job changes (one Redis subscriber per process); without it /v1/jobs/{id}/events is not served. */
  jobEvents?: JobEventsHub;
  /**
   * Where tenants' URLs may point: the policy checks callback_url and manifest_url at intake,
   * the dispatcher (createOutboundAgent, owned and closed by the caller) checks every address
   * `run` connects to.
   */
  outbound: { policy: OutboundPolicy; dispatcher: Dispatcher };
  /** Fetches schedule manifests for `run`; default: through `outbound` with MANIFEST_MAX_BYTES and MANIFEST_TIMEOUT_MS. */
  manifests?: ManifestFetcher;
  /** This process's Prometheus registry (main.ts makes it); default: a fresh one. */
  metrics?: Registry;
  /** The webhooks queue: shown on /admin/queues and in the queue gauges; a deleted job's deliveries leave it. */
  webhooksQueue?: Queue;
  /** `/v1/uploads` (main.ts builds it to run its sweeper too); default: one built from env, redis and blobs. */
  uploads?: UploadsModule;
  /** What "today" and "this month" are for `GET /v1/usage`; tests move it. Default: Date.now. */
  clock?: () => number;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * Probes, scrapes and the dashboard's own polling come every few seconds and say nothing new:
 * at `debug` only, unless they fail.
 */
const POLLING = /^\/(?:healthz|readyz|metrics)(?:[?/]|$)|^\/admin\/queues\/api\//;

/** 503s (Redis unreachable, intake budget full) are transient and tell the caller when to come back. */
export function requestLogLevel(status: number, failed: boolean, url = ''): 'debug' | 'info' | 'warn' | 'error' {
  if (status === 503) return 'warn';
  if (failed || status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return POLLING.test(url) ? 'debug' : 'info';
}

/** Builds the Express app from its collaborators; tests build it with their own Redis. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // pino-http makes up an Error for every 5xx it was not given one for; its stack says
      // nothing (the problem handler logs the real causes), so the line keeps only the status.
      customErrorObject: (_req, res, err, line: Record<string, unknown>) =>
        err.message === `failed with status code ${res.statusCode}` ? { ...line, err: undefined } : line,
      customLogLevel: (req, res, err) =>
        requestLogLevel(res.statusCode, Boolean(err), (req as { originalUrl?: string }).originalUrl ?? req.url),
      // What an operator reads a request line for, and no headers: none can leak a token, and a
      // line costs a third of the full serializers' (the read path serves thousands a second).
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: urlForLog(req.url),
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  const metrics = deps.metrics ?? createMetricsRegistry();
  app.use(httpMetrics(metrics));

  const reader = new JobReader(deps.redis, deps.keys);
  const transcripts = new TranscriptStore(deps.blobs, deps.env.QUEUE_PREFIX);
  // One limit and one byte budget for every way a job list comes in: jobs, schedule creations and runs.
  const intake = {
    limitIntake: intakeRateLimit(new IntakeRateLimit(deps.redis, deps.keys, deps.env.INTAKE_RATE_LIMIT_PER_MIN)),
    admission: new IntakeAdmission({
      budgetBytes: deps.env.INTAKE_MAX_INFLIGHT_BYTES,
      maxBodyBytes: deps.env.MAX_BODY_BYTES,
      bodyTimeoutMs: deps.env.INTAKE_BODY_TIMEOUT_MS,
      bodyMinBytesPerS: deps.env.INTAKE_BODY_MIN_BYTES_PER_S,
    }),
  };
  app.use('/v1', bearerAuth(deps.env.API_KEYS));
  // Jobs name uploads, attach them, and release them when they end (cancel, delete).
  const uploadRecords = new UploadStore(deps.redis, deps.keys);
  app.use(
    jobsRoutes({
      redis: deps.redis,
      keys: deps.keys,
      queue: deps.queue,
      batchSize: deps.env.BATCH_SIZE,
      reader,
      claims: new ClaimStore(deps.redis, deps.keys),
      actions: new JobActions({
        redis: deps.redis,
        keys: deps.keys,
        queue: deps.queue,
        batchSize: deps.env.BATCH_SIZE,
        retentionS: deps.env.JOB_RETENTION_S,
        transcripts,
        uploads: uploadRecords,
        ...(deps.webhooksQueue ? { webhooks: deps.webhooksQueue } : {}),
      }),
      uploads: uploadRecords,
      maxBodyBytes: deps.env.MAX_BODY_BYTES,
      pollMinMs: deps.env.POLL_MIN_MS,
      ...intake,
      outbound: deps.outbound.policy,
      limits: {
        maxFiles: deps.env.MAX_FILES_PER_JOB,
        webhookSecretSet: deps.env.WEBHOOK_SECRET !== undefined,
        callbackHosts: deps.env.CALLBACK_HOSTS,
      },
    }),
  );
  const uploads =
    deps.uploads ??
    createUploadsModule({
      env: deps.env,
      redis: deps.redis,
      keys: deps.keys,
      blobs: deps.blobs,
      logger: deps.logger,
      reserve: (tenant, bytes) => intake.admission.reserve(tenant, bytes),
    });
  app.use(uploads.routes);
  app.use(resultsRoutes({ reader, transcripts }));
  app.use(webhooksRoutes({ redis: deps.redis, keys: deps.keys, reader }));
  if (deps.jobEvents) {
    app.use(
      jobEventsRoutes({
        reader,
        hub: deps.jobEvents,
        limits: { perTenant: deps.env.SSE_MAX_STREAMS_PER_TENANT, perProcess: deps.env.SSE_MAX_STREAMS },
        stream: { heartbeatMs: deps.env.SSE_HEARTBEAT_MS },
      }),
    );
  }
  if (deps.schedulesQueue) app.use(schedulesRoutes(scheduleRoutesDeps(deps, deps.schedulesQueue, intake)));
  const usage = new UsageStore(deps.redis, deps.keys);
  app.use(usageRoutes({ usage, budgets: deps.env.TENANT_BUDGETS, ...(deps.clock ? { clock: deps.clock } : {}) }));
  // After the API routes, which serve the traffic: every request walks the routers in order.
  app.use(healthRoutes({ redis: deps.redis, keys: deps.keys }));
  const queues = [deps.queue, ...(deps.schedulesQueue ? [deps.schedulesQueue] : []), ...(deps.webhooksQueue ? [deps.webhooksQueue] : [])];
  app.use(operationsRoutes({ env: deps.env, redis: deps.redis, keys: deps.keys, metrics, queues, usage, logger: deps.logger }));
  app.use((req, _res, next) => next(new ProblemError('not-found', `No route for ${req.method} ${req.path}.`)));
  app.use(problemHandler({ logger: deps.logger, redisReady: () => deps.redis.status === 'ready' }));
  return app;
}

function scheduleRoutesDeps(
  deps: ApiDeps,
  queue: Queue<ScheduleFirePayload>,
  intake: { limitIntake: RequestHandler; admission: IntakeAdmission },
) {
  const { env, redis, keys } = deps;
  const limits = {
    maxFiles: env.MAX_FILES_PER_JOB,
    webhookSecretSet: env.WEBHOOK_SECRET !== undefined,
    callbackHosts: env.CALLBACK_HOSTS,
    minIntervalS: env.SCHEDULE_MIN_INTERVAL_S,
  };
  const fire = createFireScheduleDeps({
    redis,
    keys,
    batches: deps.queue,
    batchSize: env.BATCH_SIZE,
    maxFiles: env.MAX_FILES_PER_JOB,
    manifestMaxBytes: env.MANIFEST_MAX_BYTES,
    manifestTimeoutMs: env.MANIFEST_TIMEOUT_MS,
    outbound: deps.outbound,
    ...(deps.manifests ? { manifests: deps.manifests } : {}),
  });
  const actions = new ScheduleActions({
    store: fire.schedules,
    queue,
    fire,
    maxPerTenant: env.MAX_SCHEDULES_PER_TENANT,
    // A manifest may be as large as MANIFEST_MAX_BYTES, and is held whole while it becomes a job.
    reserveManifest: (tenant: string) => intake.admission.reserve(tenant, env.MANIFEST_MAX_BYTES),
  });
  return { actions, limits, maxBodyBytes: env.MAX_BODY_BYTES, ...intake, outbound: deps.outbound.policy };
}

export async function startWebServer(app: Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}

export async function stopWebServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
