import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  QUEUES,
  JobReader,
  createJob,
  createKeyLayout,
  type BatchJobPayload,
  type Job,
  type KeyLayout,
  type Priority,
} from '@batchscribe/shared';
import { freePort } from '../../scripts/lib/local-redis.js';
import { ServiceProcess, nodeArgsOfScript, waitForHttp } from './service-process.js';

export const BENCH_TENANT = 'bench';
export const BENCH_TOKEN = 'bench-token-0123456789';

/** `n` distinct URLs of a realistic length (~60 characters). */
export function benchUrls(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `https://media.example.com/recordings/2026/${tag}/call-${String(i).padStart(6, '0')}.m4a`);
}

export interface RunningApi {
  proc: ServiceProcess;
  url: string;
}

/**
 * The api as a child process on a free port, started as `pnpm start:api` starts it, at the
 * production log level. The per-tenant intake limit is off: the suite posts several jobs a
 * second, and the limit (one script call a POST) is not what is measured.
 */
/**
 * The api's lean profile from the README ("Sizing the api"): a 256 MB heap, which V8 then fills
 * less lazily, and an intake budget that keeps concurrent large submissions inside it.
 */
export const LEAN_API_ENV = { NODE_OPTIONS: '--max-old-space-size=256', INTAKE_MAX_INFLIGHT_BYTES: String(20 * 1024 * 1024) };

/**
 * The fs blob store every api and worker of one bench run shares, as a volume would in
 * production (BENCH_DATA_DIR to choose it, e.g. on another disk).
 */
export const BENCH_DATA_DIR = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'batchscribe-bench-'));
const BLOB_ENV = { BLOB_STORE: 'fs', DATA_DIR: BENCH_DATA_DIR };

export async function startApi(redisUrl: string, prefix: string, name = 'api', env: Record<string, string> = {}): Promise<RunningApi> {
  const port = await freePort();
  const proc = ServiceProcess.start(name, nodeArgsOfScript('start:api'), {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    API_KEYS: `${BENCH_TENANT}:${BENCH_TOKEN}`,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    INTAKE_RATE_LIMIT_PER_MIN: '0',
    ...BLOB_ENV,
    // To try heap limits on the api alone, e.g. BENCH_API_NODE_OPTIONS=--max-old-space-size=192.
    ...(process.env.BENCH_API_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS } : {}),
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, proc);
  // /readyz also wants a worker; its redis check alone says the api's connection is up.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const body = (await (await fetch(`${url}/readyz`)).json()) as { checks?: { redis?: string } };
    if (body.checks?.redis === 'ok') break;
    if (Date.now() > deadline) throw new Error(`${name}: Redis connection not up: ${JSON.stringify(body)}`);
    await sleep(50);
  }
  return { proc, url };
}

/** Worker processes against the simulator, waiting until each has started. */
export async function startWorkers(
  redisUrl: string,
  prefix: string,
  simUrl: string,
  count: number,
  env: Record<string, string> = {},
  name = 'worker',
): Promise<ServiceProcess[]> {
  const workers = Array.from({ length: count }, (_, i) =>
    ServiceProcess.start(`${name}${count > 1 ? `-${i + 1}` : ''}`, nodeArgsOfScript('start:worker'), {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      FOXAPI_BASE_URL: simUrl,
      FOXAPI_API_KEY: 'sk-sim',
      WORKER_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...BLOB_ENV,
      ...env,
    }),
  );
  await Promise.all(workers.map((w) => w.waitForLog('"msg":"worker started"')));
  return workers;
}

/**
 * Writes a job the way `POST /v1/jobs` does (the shared createJob: one MULTI, then addBulk),
 * from this process: for the pipeline benchmarks, where intake is not what is measured.
 */
export class JobWriter {
  readonly keys: KeyLayout;
  private readonly queue: Queue<BatchJobPayload>;
  private readonly reader: JobReader;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly batchSize = 100,
  ) {
    this.keys = createKeyLayout(prefix);
    this.queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: redis, prefix: this.keys.bullPrefix });
    this.reader = new JobReader(redis, this.keys);
  }

  async create(urls: string[], priority: Priority | null = null): Promise<Job> {
    return createJob({ redis: this.redis, keys: this.keys, queue: this.queue, batchSize: this.batchSize }, BENCH_TENANT, {
      files: urls.map((url) => ({ url })),
      model: 'paraformer-v2',
      options: {},
      name: null,
      metadata: null,
      callbackUrl: null,
      priority,
    });
  }

  /** Polls the job until it is terminal. */
  async waitForEnd(jobId: string, timeoutMs: number): Promise<Job> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.reader.getJob(jobId, BENCH_TENANT);
      if (job && job.finished_at !== null) return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not end within ${timeoutMs} ms: ${JSON.stringify(job?.counts)}`);
      await sleep(100);
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** ms from the job's creation to its end, as the job itself records them. */
export function jobWallMs(job: Job): number {
  return Date.parse(job.finished_at ?? '') - Date.parse(job.created_at);
}
