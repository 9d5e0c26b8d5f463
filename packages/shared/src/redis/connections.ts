import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/**
 * Where Redis is: one server by URL, or a Redis Cluster by its seed nodes
 * (`REDIS_CLUSTER_NODES`, `host:port,host:port`). With nodes given, the URL is not used.
 */
export type RedisTarget = string | { url: string; clusterNodes?: readonly string[] | undefined };

/** Capped exponential backoff: 250 ms doubling to 5 s, forever. */
const reconnectDelay = (times: number) => Math.min(250 * 2 ** Math.min(times, 6), 5_000);

/**
 * The two connection profiles of BullMQ's production guide.
 *
 * Workers must survive any Redis outage: `maxRetriesPerRequest: null` keeps commands
 * queued while reconnecting, and reconnection never gives up (capped backoff).
 */
export function createWorkerRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const profile: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra };
  const nodes = clusterNodesOf(target);
  if (nodes)
    return createCluster(nodes, { enableReadyCheck: true, enableOfflineQueue: true, clusterRetryStrategy: reconnectDelay }, profile);
  return new Redis(urlOf(target), { retryStrategy: reconnectDelay, ...profile });
}

/**
 * The API fails fast instead: with no offline queue a request during an outage errors at
 * once and the caller gets a 503 with Retry-After, rather than a hanging connection.
 */
export function createApiRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const profile: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, ...extra };
  const nodes = clusterNodesOf(target);
  if (nodes) return createCluster(nodes, { enableOfflineQueue: false, clusterRetryStrategy: reconnectDelay }, profile);
  return new Redis(urlOf(target), { retryStrategy: reconnectDelay, ...profile });
}

/** `host:port,host:port` → seed nodes; throws on an entry that is not `host:port`. */
export function parseClusterNodes(raw: string): Array<{ host: string; port: number }> {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65_535) throw new Error(`"${entry}" is not host:port`);
      return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
    });
}

/**
 * `REDIS_CLUSTER_NODES` for the api and worker env schemas: unset (or empty) means one server at
 * `REDIS_URL`; else the cluster's seed nodes, each checked to be `host:port`.
 */
export const redisClusterNodesField = z
  .string()
  .transform((raw, ctx) => {
    try {
      parseClusterNodes(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be comma-separated host:port pairs (${(err as Error).message})` });
      return z.NEVER;
    }
    return raw
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
  })
  .optional();

function urlOf(target: RedisTarget): string {
  return typeof target === 'string' ? target : target.url;
}

function clusterNodesOf(target: RedisTarget): readonly string[] | null {
  if (typeof target === 'string' || !target.clusterNodes || target.clusterNodes.length === 0) return null;
  return target.clusterNodes;
}

/**
 * A Redis Cluster client, typed as `Redis`: the service uses only commands, MULTI/pipelines,
 * scripts (`eval`, `defineCommand`), pub/sub, `duplicate` and `status`, which a `Cluster` has
 * too. Every key carries the `{QUEUE_PREFIX}` hash tag (keys.ts), so every MULTI and script
 * touches one slot. Options that a Cluster takes at its own level (offline queue, reconnection)
 * are set there; the rest of the profile applies to each node connection.
 */
function createCluster(nodes: readonly string[], clusterOptions: ClusterOptions, profile: RedisOptions): Redis {
  const { enableOfflineQueue: _offline, retryStrategy: _retry, ...redisOptions } = profile;
  return new Cluster(nodes.flatMap(parseClusterNodes), { ...clusterOptions, redisOptions }) as unknown as Redis;
}
