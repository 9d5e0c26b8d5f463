import { Queue } from 'bullmq';
import {
  QUEUES,
  createApiRedis,
  createKeyLayout,
  createLogger,
  exitOnConfigError,
  type BatchJobPayload,
} from '@batchscribe/shared';
import { loadApiEnv, type ApiEnv } from './env.js';
import { createApp, startWebServer, stopWebServer } from './server.js';

function loadEnvOrExit(): Readonly<ApiEnv> {
  try {
    return loadApiEnv();
  } catch (err) {
    return exitOnConfigError(err, 'batchscribe-api');
  }
}

/** Composition root: config → connections → app; SIGTERM stops HTTP, then queues, then Redis. */
async function main(): Promise<void> {
  const env = loadEnvOrExit();
  const logger = createLogger({ level: env.LOG_LEVEL, name: 'api' });
  if (env.AUTH_DISABLED && !env.API_KEYS) logger.warn('AUTH_DISABLED=true: every request is accepted as tenant "default"');
  const keys = createKeyLayout(env.QUEUE_PREFIX);
  const redis = createApiRedis(env.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.batches, err }, 'queue error'));

  const app = createApp({ env, redis, keys, queue, logger });
  const server = await startWebServer(app, env.PORT, env.HOST);
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : env.PORT, host: env.HOST }, 'api listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api draining');
    const deadline = setTimeout(() => {
      logger.error('api shutdown deadline passed; exiting');
      process.exit(1);
    }, 10_000);
    deadline.unref();
    await stopWebServer(server);
    await queue.close();
    await redis.quit().catch(() => redis.disconnect());
    logger.info('api stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

void main();
