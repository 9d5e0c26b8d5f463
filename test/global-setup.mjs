// Plain ESM: jest loads global setup outside its transform pipeline; tsx's tsImport loads the
// TypeScript Redis helper that the demo shares.
import { execSync } from 'node:child_process';
import { tsImport } from 'tsx/esm/api';

/**
 * Gives every test worker one real Redis through REDIS_URL, in the order DEVELOPERS.md sets:
 * the caller's REDIS_URL, else a testcontainers Redis when a Docker engine answers, else a
 * `redis-server` spawned on a free port. Tests isolate themselves by key prefix.
 */
function dockerAnswers() {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup() {
  if (process.env.REDIS_URL) {
    process.stderr.write(`\n[test redis] using REDIS_URL=${process.env.REDIS_URL}\n`);
    return;
  }
  if (dockerAnswers()) {
    const { GenericContainer, Wait } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start();
    process.env.REDIS_URL = `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    globalThis.__batchscribeRedisStop = () => container.stop();
    process.stderr.write(`\n[test redis] testcontainers at ${process.env.REDIS_URL}\n`);
    return;
  }
  const { redisServerAvailable, startLocalRedis } = await tsImport('../scripts/lib/local-redis.ts', import.meta.url);
  if (!redisServerAvailable()) {
    throw new Error('tests need Redis: set REDIS_URL, run a Docker engine, or install redis-server (apt-get install redis-server)');
  }
  const redis = await startLocalRedis({ appendOnly: false });
  process.env.REDIS_URL = redis.url;
  globalThis.__batchscribeRedisStop = () => redis.stop();
  process.stderr.write(`\n[test redis] spawned redis-server at ${redis.url}\n`);
}
