import {
  createBlobStore,
  DurabilityUnsupportedError,
  createKeyLayout,
  createLogger,
  wantsPrettyLogs,
  createMetricsRegistry,
  createWorkerRedis,
  exitOnConfigError,
  findUnknownVariables,
  siblingEnvVariables,
  warnUnknownVariables,
} from '@batchscribe/shared';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ENV_VARIABLES, loadWorkerEnv, type WorkerEnv } from './env.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { warnIfRedisForgets } from './persistence-check.js';
import { startWorkerRuntime } from './runtime.js';

function loadEnvOrExit(): Readonly<WorkerEnv> {
  try {
    return loadWorkerEnv();
  } catch (err) {
    return exitOnConfigError(err, 'batchscribe-worker');
  }
}

/** Composition root. SIGTERM: finish the current steps, take no new ones, exit 0. */
async function main(): Promise<void> {
  const env = loadEnvOrExit();
  // Over the process's life, for the stop line: how long the event loop was ever held (brotli,
  // JSON parsing of hour-long transcripts) is what delays lock renewals and polls.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const logger = createLogger({ level: env.LOG_LEVEL, name: 'worker', pretty: wantsPrettyLogs() });
  const known = [...ENV_VARIABLES, ...(await siblingEnvVariables(import.meta.url, 'api'))];
  warnUnknownVariables(logger, findUnknownVariables(process.env, known));
  const keys = createKeyLayout(env.QUEUE_PREFIX);
  const redis = createWorkerRedis({ url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await warnIfRedisForgets(redis, logger).catch((err: Error) =>
    logger.warn({ err: err.message }, 'could not read Redis persistence settings'),
  );
  const blobs = createBlobStore(env);
  const runtime = await startWorkerRuntime({ env, redis, keys, blobs, logger, metricsRegistry: createMetricsRegistry() }).catch(
    (err: unknown) => {
      if (!(err instanceof DurabilityUnsupportedError)) throw err;
      // A configuration this Redis cannot honour: stop, as for a bad variable, rather than pay unsafely.
      logger.fatal(err.message);
      process.stderr.write(`batchscribe-worker: ${err.message}\n`);
      process.exit(1);
    },
  );
  const metricsServer = await serveMetrics(runtime.metrics.registry, env.WORKER_METRICS_PORT, logger);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker draining');
    const deadline = setTimeout(() => {
      logger.error('worker shutdown deadline passed; exiting (unfinished steps are retried by another worker)');
      process.exit(1);
    }, env.FOXAPI_TIMEOUT_MS + 15_000);
    deadline.unref();
    await runtime.close();
    await blobs.close();
    await metricsServer?.close();
    await redis.quit().catch(() => redis.disconnect());
    loopDelay.disable();
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    logger.info(
      { eventLoopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } },
      'worker stopped',
    );
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
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

void main();
