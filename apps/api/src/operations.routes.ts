import type { Queue } from 'bullmq';
import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { WorkerMetricsStore, type KeyLayout, type UsageStore } from '@batchscribe/shared';
import { WORKER_HEARTBEAT_FRESH_MS } from './health.routes.js';
import { dashboardRoutes } from './admin/dashboard.routes.js';
import type { ApiEnv } from './env.js';
import { registerQueueMetrics } from './metrics/queue-metrics.js';
import { registerUsageMetrics } from './metrics/usage-metrics.js';
import { metricsRoutes } from './metrics/metrics.routes.js';
import { buildOpenApiDocument } from './openapi/document.js';
import { openapiRoutes } from './openapi/openapi.routes.js';

export interface OperationsDeps {
  env: Readonly<ApiEnv>;
  redis: Redis;
  keys: KeyLayout;
  metrics: Registry;
  /** Queues for the dashboard and the queue gauges. */
  queues: readonly Queue[];
  /** The tenants' usage totals, for the usage counters. */
  usage: UsageStore;
  logger: Logger;
}

/** What operators use next to the API: /metrics, /openapi.json, /docs and the dashboard. */
export function operationsRoutes(deps: OperationsDeps): Router {
  const router = Router();
  registerQueueMetrics(deps.metrics, { queues: deps.queues, redis: deps.redis, keys: deps.keys });
  registerUsageMetrics(deps.metrics, deps.usage);
  router.use(
    metricsRoutes({
      registry: deps.metrics,
      workers: new WorkerMetricsStore(deps.redis, deps.keys),
      workerFreshMs: WORKER_HEARTBEAT_FRESH_MS,
      logger: deps.logger,
    }),
  );
  router.use(openapiRoutes(buildOpenApiDocument()));
  // Unset ADMIN_TOKEN: not mounted at all, so /admin/queues is an ordinary 404.
  if (deps.env.ADMIN_TOKEN) {
    router.use(dashboardRoutes({ token: deps.env.ADMIN_TOKEN, queues: deps.queues, readOnly: deps.env.ADMIN_READ_ONLY }));
  }
  return router;
}
