import { Queue } from 'bullmq';
import {
  OutboundPolicy,
  QUEUES,
  createOutboundAgent,
  createApiRedis,
  createBlobStore,
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
  type BatchJobPayload,
  type ScheduleFirePayload,
} from '@batchscribe/shared';
import { ENV_VARIABLES, loadApiEnv } from './env.js';
import { JobEventsHub } from './events/job-events.hub.js';
import { createApp, startWebServer, stopWebServer } from './server.js';
import { createUploadSweeper } from './uploads/uploads-module.js';

/** Composition root: config → connections → app; SIGTERM stops HTTP, then queues, then Redis. */
async function main(): Promise<void> {
  const env = loadEnvOrExit(() => loadApiEnv(), 'batchscribe-api');
  const logger = createLogger({ level: env.LOG_LEVEL, name: 'api', pretty: wantsPrettyLogs(env.LOG_FORMAT) });
  const known = [...ENV_VARIABLES, ...(await siblingEnvVariables(import.meta.url, 'worker'))];
  warnUnknownVariables(logger, findUnknownVariables(process.env, known));
  if (env.AUTH_DISABLED && !env.API_KEYS) logger.warn('AUTH_DISABLED=true: every request is accepted as tenant "default"');
  const keys = createKeyLayout(env.QUEUE_PREFIX);
  const redisTarget = { url: env.REDIS_URL, clusterNodes: env.REDIS_CLUSTER_NODES };
  const redis = createApiRedis(redisTarget);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.batches, err }, 'queue error'));
  const schedulesQueue = new Queue<ScheduleFirePayload>(QUEUES.schedules, { connection: redis, prefix: keys.bullPrefix });
  schedulesQueue.on('error', (err) => logger.error({ queue: QUEUES.schedules, err }, 'queue error'));
  // SSE streams share one subscriber. It must queue SUBSCRIBE while offline and reconnect
  // forever, which is the worker connection profile, not the api's fail-fast one.
  const subscriber = createWorkerRedis(redisTarget);
  subscriber.on('error', (err) => logger.warn({ err: err.message }, 'redis subscriber error'));
  const jobEvents = new JobEventsHub(subscriber, keys.jobEvents, logger);
  // Not awaited: with Redis down the api still starts (and answers 503s); SUBSCRIBE runs on connect.
  jobEvents.start().catch((err: Error) => logger.error({ err }, 'job events hub could not subscribe'));
  // Only watched from here (the worker delivers): for the dashboard and the queue gauges.
  const webhooksQueue = new Queue(QUEUES.webhooks, { connection: redis, prefix: keys.bullPrefix });
  webhooksQueue.on('error', (err) => logger.error({ queue: QUEUES.webhooks, err }, 'queue error'));
  const metrics = createMetricsRegistry();
  // Every connection `run` makes to a manifest host goes through this Agent, which checks the address it dials.
  const outboundPolicy = new OutboundPolicy(env.OUTBOUND_ALLOWED_NETS);
  const outboundAgent = createOutboundAgent(outboundPolicy, { connectTimeoutMs: env.MANIFEST_TIMEOUT_MS });
  const outbound = { policy: outboundPolicy, dispatcher: outboundAgent };

  const blobs = createBlobStore(env);
  const app = createApp({ env, redis, keys, blobs, queue, logger, schedulesQueue, jobEvents, metrics, webhooksQueue, outbound });
  const server = await startWebServer(app, env.PORT, env.HOST);
  // Uploads no job uses past UPLOAD_TTL_S, and those their last job released, are deleted here.
  const sweepUploads = createUploadSweeper({ env, redis, keys, blobs, logger });
  const uploadSweeper = setInterval(() => {
    sweepUploads(env.UPLOAD_SWEEP_MS).catch((err: Error) => logger.warn({ err: err.message }, 'upload sweep failed'));
  }, env.UPLOAD_SWEEP_MS);
  uploadSweeper.unref();
  const address = server.address();
  logger.info({ port: typeof address === 'object' && address ? address.port : env.PORT, host: env.HOST }, 'api listening');

  exitOnShutdownSignals({
    name: 'api',
    logger,
    deadlineMs: 10_000,
    deadlineMessage: 'api shutdown deadline passed; exiting',
    stop: async () => {
      // Open event streams would hold the server open: end them (clients reconnect elsewhere).
      await jobEvents.close();
      clearInterval(uploadSweeper);
      await stopWebServer(server);
      await outboundAgent.close();
      await schedulesQueue.close();
      await webhooksQueue.close();
      await queue.close();
      await blobs.close();
      await subscriber.quit().catch(() => subscriber.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  });
}

void main();
