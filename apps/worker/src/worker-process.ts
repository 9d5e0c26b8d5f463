import {
  createBlobStore,
  DurabilityUnsupportedError,
  createKeyLayout,
  createLogger,
  wantsPrettyLogs,
  createMetricsRegistry,
  createWorkerRedis,
  loadEnvOrExit,
  exitOnShutdownSignals,
  findUnknownVariables,
  siblingEnvVariables,
  warnUnknownVariables,
} from '@batchscribe/shared';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ENV_VARIABLES, loadWorkerEnv } from './env.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { warnIfRedisForgets } from './persistence-check.js';
import type { Crash } from './pipeline/crash-points.js';
import { startWorkerRuntime } from './runtime.js';

/** What a worker process can be started with besides its environment: the test-only entry point sets the failpoint. */
export interface WorkerProcessHooks {
  crash?: Crash;
}

/** Composition root. SIGTERM: finish the current steps, take no new ones, exit 0. */
export async function runWorkerProcess(hooks: WorkerProcessHooks = {}): Promise<void> {
  const env = loadEnvOrExit(() => loadWorkerEnv(), 'batchscribe-worker');
  // Over the process's life, for the stop line: how long the event loop was ever held (brotli,
  // JSON parsing of hour-long transcripts) is what delays lock renewals and polls.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const logger = createLogger({ level: env.LOG_LEVEL, name: 'worker', pretty: wantsPrettyLogs(env.LOG_FORMAT) });
  const known = [...ENV_VARIABLES, ...(await siblingEnvVariables(import.meta.url, 'api'))];
  warnUnknownVariables(logger, findUnknownVariables(process.env, known));
  const keys = createKeyLayout(env.QUEUE_PREFIX);
  const redis = createWorkerRedis({ url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await warnIfRedisForgets(redis, logger).catch((err: Error) =>
    logger.warn({ err: err.message }, 'could not read Redis persistence settings'),
  );
  const blobs = createBlobStore(env);
  const runtime = await startWorkerRuntime({
    env,
    redis,
    keys,
    blobs,
    logger,
    metricsRegistry: createMetricsRegistry(),
    ...(hooks.crash ? { crash: hooks.crash } : {}),
  }).catch((err: unknown) => {
    if (!(err instanceof DurabilityUnsupportedError)) throw err;
    // A configuration this Redis cannot honour: stop, as for a bad variable, rather than pay unsafely.
    logger.fatal(err.message);
    process.stderr.write(`batchscribe-worker: ${err.message}\n`);
    process.exit(1);
  });
  const metricsServer = await serveMetrics(runtime.metrics.registry, env.WORKER_METRICS_PORT, logger);

  exitOnShutdownSignals({
    name: 'worker',
    logger,
    deadlineMs: env.FOXAPI_TIMEOUT_MS + 15_000,
    deadlineMessage: 'worker shutdown deadline passed; exiting (unfinished steps are retried by another worker)',
    stop: async () => {
      await runtime.close();
      await blobs.close();
      await metricsServer?.close();
      await redis.quit().catch(() => redis.disconnect());
      loopDelay.disable();
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      return { eventLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } };
    },
  });
  // A wrong key or an unreachable foxapi is said now, not at the first job; the worker keeps
  // running either way (foxapi may come back), and /readyz shows the problem meanwhile.
  await runtime.checkUpstream();
}

/**
 * WORKER_METRICS_PORT=0 turns the endpoint off. A port already taken (a second worker on the
 * same host) costs the metrics, not the worker: it logs and carries on.
 */
async function serveMetrics(registry: Registry, port: number, logger: Logger): Promise<MetricsServer | null> {
  if (port === 0) return null;
  try {
    const server = await startMetricsServer(registry, port);
    logger.info({ port: server.port }, 'worker metrics at GET /metrics');
    return server;
  } catch (err) {
    logger.error({ port, err: (err as Error).message }, 'worker metrics not served: cannot listen on WORKER_METRICS_PORT');
    return null;
  }
}
