import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import {
  OutboundPolicy,
  QUEUES,
  createApiRedis,
  createBlobStore,
  createKeyLayout,
  createOutboundAgent,
  type BatchJobPayload,
} from '@batchscribe/shared';
import { loadApiEnv } from '../../apps/api/src/env.js';
import { createApp, startWebServer, stopWebServer } from '../../apps/api/src/server.js';
import { blobEnvFor } from '../support/blob-env.js';
import { urls } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

describe('api started before its Redis connection is up', () => {
  it('when the app is built while Redis is still connecting (as main.ts does), then intake works once Redis is there', async () => {
    const env = loadApiEnv({
      REDIS_URL: process.env.REDIS_URL!,
      QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
      API_KEYS: 'acme:tok',
      LOG_LEVEL: 'silent',
      ...blobEnvFor('fs'),
    });
    const keys = createKeyLayout(env.QUEUE_PREFIX);
    const redis = createApiRedis(env.REDIS_URL);
    redis.on('error', () => undefined);
    expect(redis.status).not.toBe('ready');
    const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis, prefix: keys.bullPrefix });
    const policy = new OutboundPolicy([]);
    const outbound = { policy, dispatcher: createOutboundAgent(policy) };
    const server = await startWebServer(
      createApp({ env, redis, keys, queue, blobs: createBlobStore(env), logger: pino({ level: 'silent' }), outbound }),
      0,
      '127.0.0.1',
    );
    try {
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/jobs`;
      const post = () =>
        fetch(url, {
          method: 'POST',
          headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
          body: JSON.stringify({ file_urls: urls(1) }),
        });
      // Until Redis answers the api says 503; afterwards it must accept jobs (no error left stuck).
      const accepted = await waitFor(async () => {
        const res = await post();
        expect([202, 503]).toContain(res.status);
        return res.status === 202 ? res : undefined;
      });
      expect(accepted.status).toBe(202);
      expect((await post()).status).toBe(202);
    } finally {
      await stopWebServer(server);
      await queue.obliterate({ force: true });
      await outbound.dispatcher.close();
      await queue.close();
      await redis.quit();
    }
  });
});
