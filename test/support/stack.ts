import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { createFoxapiSimulator, type FoxapiSimulator, type SimOptions } from '@batchscribe/foxapi-sim';
import {
  OutboundPolicy,
  QUEUES,
  TranscriptStore,
  createApiRedis,
  createBlobStore,
  createOutboundAgent,
  createKeyLayout,
  createWorkerRedis,
  type BatchJobPayload,
  type BlobStore,
  type Job,
  type KeyLayout,
  type OutboundAgentOptions,
  type Resolver,
  type ScheduleFirePayload,
} from '@batchscribe/shared';
import { loadApiEnv } from '../../apps/api/src/env.js';
import { JobEventsHub } from '../../apps/api/src/events/job-events.hub.js';
import { buildOpenApiDocument } from '../../apps/api/src/openapi/document.js';
import { createApp, startWebServer, stopWebServer } from '../../apps/api/src/server.js';
import { loadWorkerEnv } from '../../apps/worker/src/env.js';
import { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeDeps } from '../../apps/worker/src/runtime.js';
import { blobEnvFor, removeBlobEnv } from './blob-env.js';
import { OpenApiContract, type OpenApiDoc } from './openapi-contract.js';
import { waitFor } from './wait-for.js';

let sharedContract: OpenApiContract | undefined;
/** The document the api serves at /openapi.json, built once per test file (compiling it is the costly part). */
export function openApiContract(): OpenApiContract {
  sharedContract ??= new OpenApiContract(JSON.parse(JSON.stringify(buildOpenApiDocument())) as OpenApiDoc);
  return sharedContract;
}

export const TOKENS = { acme: 'tok-acme-123', globex: 'tok-globex-456' } as const;

export interface StackOptions {
  sim?: SimOptions;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** Start without a worker (intake and validation tests). */
  worker?: boolean;
  /** Which blob store the transcripts go to: a fresh temp dir (fs, default) or a fresh prefix of the test S3 server. */
  blob?: 'fs' | 's3';
  logger?: Logger;
  /** The resolver the api's intake check uses (a test plays a DNS server that answers differently later). */
  apiResolve?: Resolver;
  /** The resolver the worker's outbound sockets use. */
  workerLookup?: OutboundAgentOptions['lookup'];
}

/**
 * Receivers and manifest hosts in tests listen on 127.0.0.1, which the outbound policy refuses
 * by default: the harness allows exactly that address, as an operator would an internal net.
 */
export const TEST_OUTBOUND_ALLOWED_NETS = '127.0.0.1/32';

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/**
 * The whole service in one test process: foxapi simulator on a random port, the api on
 * another, a worker runtime, all on the harness's real Redis under a fresh key prefix.
 */
export class Stack {
  workers: WorkerRuntime[] = [];
  /**
   * Every response `request` sees is checked against the OpenAPI document, as a validating
   * proxy would: status, media type, body and headers. A violation fails the request's test at
   * once and is kept here, so that one a polling helper swallowed still fails `stop()`.
   */
  readonly conformanceViolations: string[] = [];
  private constructor(
    readonly prefix: string,
    readonly keys: KeyLayout,
    readonly redis: Redis,
    readonly sim: FoxapiSimulator,
    readonly simUrl: string,
    readonly apiUrl: string,
    private readonly server: Server,
    private readonly apiRedis: Redis,
    private readonly queue: Queue<BatchJobPayload>,
    private readonly workerEnv: Record<string, string>,
    private readonly logger: Logger,
    /** Schedules' queue and the SSE hub with its own subscriber connection, as main.ts builds them. */
    private readonly workflows: { schedulesQueue: Queue<ScheduleFirePayload>; jobEvents: JobEventsHub; subscriber: Redis },
    /** The api's outbound Agent, closed by stop() as main.ts closes it at shutdown. */
    private readonly apiOutboundAgent: ReturnType<typeof createOutboundAgent>,
    private readonly workerLookup: OutboundAgentOptions['lookup'] | undefined,
    /** The api's blob store; `transcripts` reads what the workers stored in it. */
    readonly blobs: BlobStore,
  ) {
    this.transcripts = new TranscriptStore(blobs, prefix);
  }

  readonly transcripts: TranscriptStore;
  /** The blob store's variables (its temp DATA_DIR is removed by stop()); a test builds another part on the same store with them. */
  blobEnv: Record<string, string> = {};

  static async start(opts: StackOptions = {}): Promise<Stack> {
    const redisUrl = process.env.REDIS_URL;
    if (!redisUrl) throw new Error('REDIS_URL is not set: the jest global setup provides it');
    const prefix = `t${randomUUID().slice(0, 8)}`;
    const keys = createKeyLayout(prefix);
    const logger = opts.logger ?? pino({ level: 'silent' });
    const sim = createFoxapiSimulator({ taskDurationMs: 300, ...opts.sim });
    const { url: simUrl } = await sim.listen(0);

    const blobEnv = blobEnvFor(opts.blob ?? 'fs');
    const common = {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent',
      OUTBOUND_ALLOWED_NETS: TEST_OUTBOUND_ALLOWED_NETS,
      ...blobEnv,
    };
    const apiEnv = loadApiEnv({
      ...common,
      API_KEYS: `acme:${TOKENS.acme},globex:${TOKENS.globex}`,
      INTAKE_RATE_LIMIT_PER_MIN: '10000',
      WEBHOOK_SECRET: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=',
      POLL_MIN_MS: '100',
      ...opts.apiEnv,
    });
    const apiRedis = createApiRedis(redisUrl);
    apiRedis.on('error', () => undefined);
    await new Promise<void>((resolve) => (apiRedis.status === 'ready' ? resolve() : apiRedis.once('ready', () => resolve())));
    const queue = new Queue<BatchJobPayload>(QUEUES.batches, { connection: apiRedis, prefix: keys.bullPrefix });
    const schedulesQueue = new Queue<ScheduleFirePayload>(QUEUES.schedules, { connection: apiRedis, prefix: keys.bullPrefix });
    const subscriber = new Redis(redisUrl);
    const jobEvents = new JobEventsHub(subscriber, keys.jobEvents, logger);
    await jobEvents.start();
    const policy = new OutboundPolicy(apiEnv.OUTBOUND_ALLOWED_NETS, opts.apiResolve ? { resolve: opts.apiResolve } : {});
    const apiOutboundAgent = createOutboundAgent(policy, { connectTimeoutMs: apiEnv.MANIFEST_TIMEOUT_MS });
    const outbound = { policy, dispatcher: apiOutboundAgent };
    const blobs = createBlobStore(apiEnv);
    const server = await startWebServer(
      createApp({ env: apiEnv, redis: apiRedis, keys, blobs, queue, logger, schedulesQueue, jobEvents, outbound }),
      0,
      '127.0.0.1',
    );
    const address = server.address();
    const apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const workerEnv = {
      ...common,
      FOXAPI_BASE_URL: simUrl,
      FOXAPI_API_KEY: 'sk-sim',
      FOXAPI_MAX_RPS: '200',
      POLL_MIN_MS: '100',
      POLL_MAX_MS: '1000',
      FOXAPI_TIMEOUT_MS: '3000',
      ...opts.workerEnv,
    };
    const stack = new Stack(
      prefix,
      keys,
      new Redis(redisUrl),
      sim,
      simUrl,
      apiUrl,
      server,
      apiRedis,
      queue,
      workerEnv,
      logger,
      { schedulesQueue, jobEvents, subscriber },
      apiOutboundAgent,
      opts.workerLookup,
      blobs,
    );
    stack.blobEnv = blobEnv;
    if (opts.worker !== false) await stack.startWorker();
    // Built here rather than on the first request, so that no request's timing includes it.
    openApiContract();
    return stack;
  }

  /** Another worker runtime; `extra` injects a test hook, a clock, a logger or env overrides. */
  async startWorker(
    extra: Pick<WorkerRuntimeDeps, 'testHook' | 'clock' | 'heartbeatMs'> & { env?: Record<string, string>; logger?: Logger } = {},
  ): Promise<WorkerRuntime> {
    const env = loadWorkerEnv({ ...this.workerEnv, ...extra.env });
    const redis = createWorkerRedis(env.REDIS_URL);
    const blobs = createBlobStore(env);
    const runtime = await startWorkerRuntime({
      env,
      redis,
      keys: this.keys,
      blobs,
      logger: extra.logger ?? this.logger,
      heartbeatMs: extra.heartbeatMs ?? 1_000,
      sweepMs: 500,
      webhookOutboxMs: 100,
      ...(this.workerLookup ? { outboundLookup: this.workerLookup } : {}),
      ...(extra.testHook ? { testHook: extra.testHook } : {}),
      ...(extra.clock ? { clock: extra.clock } : {}),
    }).catch(async (err: unknown) => {
      await blobs.close();
      await redis.quit();
      throw err;
    });
    const close = runtime.close;
    const wrapped: WorkerRuntime = {
      ...runtime,
      id: runtime.id,
      worker: runtime.worker,
      close: async () => {
        await close();
        await blobs.close();
        await redis.quit();
      },
    };
    this.workers.push(wrapped);
    return wrapped;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKENS.acme}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.apiUrl + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '') && !/ndjson/.test(res.headers.get('content-type') ?? ''))
      parsed = JSON.parse(text);
    const result: HttpResult<T> = { status: res.status, headers: res.headers, body: parsed as T, text };
    try {
      openApiContract().expectConformsIfDocumented(method, path, result);
    } catch (err) {
      const violation = `OpenAPI conformance: ${(err as Error).message}`;
      this.conformanceViolations.push(violation);
      throw new Error(violation);
    }
    return result;
  }

  async submit(body: unknown, token?: string): Promise<Job> {
    const res = await this.request<Job>('POST', '/v1/jobs', { body, ...(token ? { token } : {}) });
    if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${res.text}`);
    return res.body;
  }

  async waitForJob(id: string, done: (job: Job) => boolean = isTerminal, timeoutMs = 30_000): Promise<Job> {
    return waitFor(
      async () => {
        const res = await this.request<Job>('GET', `/v1/jobs/${id}`);
        return res.status === 200 && done(res.body) ? res.body : undefined;
      },
      { timeoutMs, what: `job ${id}` },
    );
  }

  /** Every key under this stack's prefix, sorted (to prove a request wrote nothing). */
  async keysUnderPrefix(): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `{${this.prefix}}*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found.sort();
  }

  async stop(): Promise<void> {
    for (const w of this.workers) await w.close();
    await this.workflows.jobEvents.close();
    await stopWebServer(this.server);
    await this.apiOutboundAgent.close();
    await this.workflows.schedulesQueue.close();
    await this.workflows.subscriber.quit();
    await this.queue.obliterate({ force: true }).catch(() => undefined);
    await this.queue.close();
    const keys = await this.keysUnderPrefix();
    for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500));
    await this.apiRedis.quit();
    await this.redis.quit();
    await this.sim.close();
    if (this.conformanceViolations.length > 0) {
      throw new Error(`responses that do not match the OpenAPI document:\n${[...new Set(this.conformanceViolations)].join('\n')}`);
    }
    await this.blobs.deleteByPrefix(`${this.prefix}/`);
    await this.blobs.close();
    removeBlobEnv(this.blobEnv);
  }
}

export function isTerminal(job: Job): boolean {
  return ['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(job.status);
}

/** The counts invariant (docs/architecture.md): the counts other than total sum to total, for files and for batches. */
export function countsAddUp(job: Job): boolean {
  const sum = (c: Job['counts']) => c.queued + c.submitted + c.completed + c.failed + c.cancelled;
  return sum(job.counts) === job.counts.total && sum(job.batches) === job.batches.total;
}

export function urls(n: number, tag = 'file'): string[] {
  return Array.from({ length: n }, (_, i) => `https://media.example.com/${tag}-${i}.wav`);
}
