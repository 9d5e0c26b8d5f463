// Plain ESM: jest loads global setup outside its transform pipeline; tsx's tsImport loads the
// TypeScript helpers (the Redis one the demo shares, the S3 server).
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

/**
 * Gives every test worker one real Redis through REDIS_URL, from the first source that answers:
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
  await setUpRedis();
  await setUpS3();
  setUpDataDir();
}

/**
 * A fallback DATA_DIR for any api or worker a test starts without a blob store of its own, so
 * nothing lands in the checkout's ./data; removed by the teardown. Stacks make their own.
 */
function setUpDataDir() {
  const dir = mkdtempSync(join(tmpdir(), 'batchscribe-test-data-'));
  process.env.DATA_DIR = dir;
  globalThis.__batchscribeDataDirStop = () => rmSync(dir, { recursive: true, force: true });
}

async function setUpRedis() {
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

/**
 * One S3-compatible server for every worker: the caller's TEST_S3_ENDPOINT (with its
 * TEST_S3_BUCKET and AWS_* credentials), else MinIO in a container, else s3rver in a child
 * process. Tests isolate themselves by S3_PREFIX (see test/support/blob-env.ts).
 */
async function setUpS3() {
  if (process.env.TEST_S3_ENDPOINT) {
    if (!process.env.TEST_S3_BUCKET) throw new Error('TEST_S3_ENDPOINT is set but TEST_S3_BUCKET is not');
    process.stderr.write(`[test s3] using TEST_S3_ENDPOINT=${process.env.TEST_S3_ENDPOINT}\n`);
    return;
  }
  const { startS3Server } = await tsImport('./support/s3-server.ts', import.meta.url);
  const s3 = await startS3Server();
  process.env.TEST_S3_ENDPOINT = s3.endpoint;
  process.env.TEST_S3_BUCKET = s3.bucket;
  // The adapters read credentials through the SDK's default chain, which starts here.
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
  globalThis.__batchscribeS3Stop = () => s3.stop();
  process.stderr.write(`[test s3] S3 server at ${s3.endpoint}, bucket ${s3.bucket}\n`);
}
