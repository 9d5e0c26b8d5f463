import { afterEach, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createKeyLayout, createLogger } from '@batchscribe/shared';
import { checkReadiness } from '../../apps/api/src/health.routes.js';
import { warnIfRedisForgets } from '../../apps/worker/src/persistence-check.js';
import { startLocalRedis, type LocalRedis } from '../../scripts/lib/local-redis.js';

/** Each test gets its own redis-server, so changing its settings touches no other suite. */
let server: LocalRedis | undefined;
let client: Redis | undefined;
afterEach(async () => {
  client?.disconnect();
  await server?.stop();
  server = undefined;
  client = undefined;
});

async function redisWith(opts: { appendOnly: boolean }): Promise<Redis> {
  server = await startLocalRedis(opts);
  client = new Redis(server.url);
  return client;
}

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<{ level: number; msg: string }> } {
  const out: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info', name: 'test', destination }),
    lines: () => out.map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}

describe('Redis settings the service depends on', () => {
  it('when maxmemory-policy may evict keys, then /readyz readiness fails naming the policy, and passes once it is noeviction', async () => {
    const redis = await redisWith({ appendOnly: true });
    const keys = createKeyLayout('settings');
    await redis.zadd(keys.workers, Date.now(), 'worker-1'); // a fresh heartbeat: the policy is the only problem

    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const evicting = await checkReadiness(redis, keys);
    expect(evicting.ready).toBe(false);
    expect(evicting.checks.maxmemory_policy).toContain('allkeys-lru');
    expect(evicting.checks.workers).toMatch(/^ok/);

    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    expect(await checkReadiness(redis, keys)).toMatchObject({ ready: true, checks: { maxmemory_policy: 'ok' } });
  });

  it('when Redis keeps neither AOF nor RDB saves, then the worker warns loudly at start; with AOF on it does not', async () => {
    const forgetful = capturedLogger();
    await warnIfRedisForgets(await redisWith({ appendOnly: false }), forgetful.logger);
    const warnings = forgetful.lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/REDIS PERSISTENCE IS OFF/);

    client?.disconnect();
    await server?.stop();
    const durable = capturedLogger();
    await warnIfRedisForgets(await redisWith({ appendOnly: true }), durable.logger);
    expect(durable.lines()).toEqual([]);
  });
});
