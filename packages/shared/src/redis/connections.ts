import { Redis, type RedisOptions } from 'ioredis';

/**
 * The two connection profiles of BullMQ's production guide.
 *
 * Workers must survive any Redis outage: `maxRetriesPerRequest: null` keeps commands
 * queued while reconnecting, and reconnection never gives up (capped backoff).
 */
export function createWorkerRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(250 * 2 ** Math.min(times, 6), 5_000),
    ...extra,
  });
}

/**
 * The API fails fast instead: with no offline queue a request during an outage errors at
 * once and the caller gets a 503 with Retry-After, rather than a hanging connection.
 */
export function createApiRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(250 * 2 ** Math.min(times, 6), 5_000),
    ...extra,
  });
}
