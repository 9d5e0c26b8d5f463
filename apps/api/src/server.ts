import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { JobReader, type BatchJobPayload, type KeyLayout } from '@batchscribe/shared';
import type { ApiEnv } from './env.js';
import { bearerAuth } from './http/auth.js';
import { ProblemError, problemHandler } from './http/problem.js';
import { healthRoutes } from './health.routes.js';
import { JobActions } from './jobs/job-actions.js';
import { jobsRoutes } from './jobs/jobs.routes.js';
import { resultsRoutes } from './jobs/results.routes.js';

export interface ApiDeps {
  env: Readonly<ApiEnv>;
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  logger: Logger;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

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
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );

  app.use(healthRoutes({ redis: deps.redis, keys: deps.keys }));
  const reader = new JobReader(deps.redis, deps.keys);
  app.use('/v1', bearerAuth(deps.env.API_KEYS));
  app.use(
    jobsRoutes({
      redis: deps.redis,
      keys: deps.keys,
      queue: deps.queue,
      batchSize: deps.env.BATCH_SIZE,
      reader,
      actions: new JobActions({ redis: deps.redis, keys: deps.keys, queue: deps.queue, batchSize: deps.env.BATCH_SIZE, retentionS: deps.env.JOB_RETENTION_S }),
      maxBodyBytes: deps.env.MAX_BODY_BYTES,
      pollMinMs: deps.env.POLL_MIN_MS,
      limits: {
        maxFiles: deps.env.MAX_FILES_PER_JOB,
        webhookSecretSet: deps.env.WEBHOOK_SECRET !== undefined,
        callbackHosts: deps.env.CALLBACK_HOSTS,
      },
    }),
  );
  app.use(resultsRoutes({ reader }));
  app.use((req, _res, next) => next(new ProblemError('not-found', `No route for ${req.method} ${req.path}.`)));
  app.use(problemHandler({ logger: deps.logger, redisReady: () => deps.redis.status === 'ready' }));
  return app;
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
