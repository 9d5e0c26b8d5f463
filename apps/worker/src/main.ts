import { createKeyLayout, createLogger, createWorkerRedis, exitOnConfigError } from '@batchscribe/shared';
import { loadWorkerEnv, type WorkerEnv } from './env.js';
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
  const logger = createLogger({ level: env.LOG_LEVEL, name: 'worker' });
  const keys = createKeyLayout(env.QUEUE_PREFIX);
  const redis = createWorkerRedis(env.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await warnIfRedisForgets(redis, logger).catch((err: Error) => logger.warn({ err: err.message }, 'could not read Redis persistence settings'));
  const runtime = await startWorkerRuntime({ env, redis, keys, logger });

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
    await redis.quit().catch(() => redis.disconnect());
    logger.info('worker stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
