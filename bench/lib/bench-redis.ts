import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { redisServerAvailable, startLocalRedis } from '../../scripts/lib/local-redis.js';

/** The Redis every benchmark (and every baseline) of one run uses. */
export interface BenchRedis {
  readonly url: string;
  /** A plain connection of the bench process, for probes and baselines. */
  readonly client: Redis;
  readonly version: string;
  /** True when this run started the server (REDIS_URL unset). */
  readonly spawned: boolean;
  stop(): Promise<void>;
}

/**
 * REDIS_URL if set, else a private `redis-server` on a free port. Without persistence: AOF
 * fsyncs and rewrites would add Redis-side noise that falls on baselines and subjects alike.
 */
export async function benchRedis(): Promise<BenchRedis> {
  let url = process.env.REDIS_URL;
  let stopServer = async (): Promise<void> => undefined;
  if (!url) {
    if (!redisServerAvailable()) {
      throw new Error('pnpm bench needs Redis: set REDIS_URL, or install redis-server (apt-get install redis-server, brew install redis)');
    }
    const local = await startLocalRedis({ appendOnly: false });
    url = local.url;
    stopServer = () => local.stop();
  }
  const client = new Redis(url, { maxRetriesPerRequest: 3 });
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url,
    client,
    version,
    spawned: !process.env.REDIS_URL,
    stop: async () => {
      await client.quit().catch(() => client.disconnect());
      await stopServer();
    },
  };
}

/** Calls per command since the server started (INFO commandstats). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** What ran between two commandstats snapshots, minus the probe's own INFO calls. */
export function commandDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [cmd, n] of after) {
    const d = n - (before.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0);
    if (d > 0) {
      byCommand[cmd] = d;
      total += d;
    }
  }
  return { total, byCommand: Object.fromEntries(Object.entries(byCommand).sort((a, b) => b[1] - a[1])) };
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

/** Every key whose name starts with the `{prefix}` hash tag. */
export async function keysOfPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** Removes a benchmark's keys, so the next one starts from the same Redis state. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<number> {
  const keys = await keysOfPrefix(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500));
  // UNLINK frees in the background: wait, so a later used_memory reading is not still shrinking.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && /^lazyfree_pending_objects:[1-9]/m.test(await redis.info('memory'))) {
    await sleep(20);
  }
  return keys.length;
}

/** `MEMORY USAGE key SAMPLES 0` (every element counted) summed over keys. */
export async function memoryUsage(redis: Redis, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 200) {
    const pipe = redis.pipeline();
    for (const key of keys.slice(i, i + 200)) pipe.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    for (const [, v] of (await pipe.exec()) ?? []) total += Number(v ?? 0);
  }
  return total;
}

/** CPU seconds (user + system) the Redis server has used since it started. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (f: string) => Number(new RegExp(`^${f}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return get('used_cpu_sys') + get('used_cpu_user');
}
