import { Router } from 'express';
import type { Registry } from 'prom-client';
import { withWorkerMetrics, type WorkerMetricsStore } from '@batchscribe/shared';
import type { Logger } from 'pino';

export interface MetricsRoutesDeps {
  registry: Registry;
  /** Where workers leave their metrics; the api's /metrics shows the fresh ones summed. */
  workers: WorkerMetricsStore;
  /** A worker's snapshot older than this is a worker gone: left out. */
  workerFreshMs: number;
  logger: Logger;
  clock?: () => number;
}

/**
 * `GET /metrics`, unauthenticated like /healthz: scrapers sit inside the network. One scrape of
 * the api shows the whole service: its own metrics and the workers' (foxapi requests, files and
 * batches by outcome, webhook deliveries) summed over the workers alive.
 */
export function metricsRoutes(deps: MetricsRoutesDeps): Router {
  const router = Router();
  const clock = deps.clock ?? Date.now;
  router.get('/metrics', async (_req, res) => {
    // Redis down: the api's own metrics still answer (its gauges then say so).
    const workers = await deps.workers.fresh(clock(), deps.workerFreshMs).catch((err: Error) => {
      deps.logger.warn({ err: err.message }, 'worker metrics unreadable; serving the api metrics alone');
      return [];
    });
    const registry = withWorkerMetrics(deps.registry, workers);
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
