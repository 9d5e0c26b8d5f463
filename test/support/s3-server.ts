import { spawn, execSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../scripts/lib/local-redis.js';

/** A real S3-compatible server that this process started and owns, with a bucket made in it. */
export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** The server's fixed credentials: give them to the SDK as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

const BUCKET = 'batchscribe-test';
const MINIO_IMAGE = 'minio/minio:RELEASE.2025-04-22T22-12-26Z';

/**
 * MinIO in a container when a Docker engine answers, else s3rver (an S3 server written for
 * Node) in a child process on a free port, so a test run needs nothing installed beyond npm.
 */
export async function startS3Server(): Promise<TestS3Server> {
  return dockerAnswers() ? startMinio() : startS3rver();
}

function dockerAnswers(): boolean {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

async function startMinio(): Promise<TestS3Server> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const credentials = { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' };
  const container = await new GenericContainer(MINIO_IMAGE)
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: credentials.accessKeyId, MINIO_ROOT_PASSWORD: credentials.secretAccessKey })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
    .start();
  const endpoint = `http://${container.getHost()}:${container.getMappedPort(9000)}`;
  await createBucket(endpoint, credentials);
  return { endpoint, bucket: BUCKET, ...credentials, stop: async () => void (await container.stop()) };
}

async function startS3rver(): Promise<TestS3Server> {
  // s3rver accepts only this key pair (and checks signatures made with it).
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const dir = mkdtempSync(join(tmpdir(), 'batchscribe-s3-'));
  const port = await freePort();
  // s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent', '--no-vhost-buckets'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`s3rver exited (${code ?? signal}) before it served: ${stderr}`))),
  );
  exited.catch(() => {});
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([createBucket(endpoint, credentials), exited]);
  } catch (err) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // Its output mattered only while it was starting; drain it from now on.
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  return {
    endpoint,
    bucket: BUCKET,
    ...credentials,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Retries until the server answers (it is still starting), for at most 15 s. */
async function createBucket(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`S3 server at ${endpoint} did not answer: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
