import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { FoxapiSimulator, SimOptions } from '@batchscribe/foxapi-sim';
import {
  FsBlobStore,
  QUEUES,
  TranscriptStore,
  batchQueueJobId,
  createKeyLayout,
  type BatchJobPayload,
  type Job,
  type KeyLayout,
} from '@batchscribe/shared';
import { freePort, startLocalRedis, type LocalRedis } from '../../scripts/lib/local-redis.js';
import { ChildHandle } from './child-handle.js';
import { SimFront } from './sim-front.js';
import { workerEntryFor } from './worker-entry.js';
import { countsAddUp, isTerminal } from './stack.js';
import { waitFor } from './wait-for.js';

/**
 * The crash suite's stack: the real api and worker entry points as child processes (so they
 * can be SIGKILLed), a `redis-server` of the test's own with AOF on (so it can be SIGKILLed and
 * restarted on the same port and dir), and the foxapi simulator in this process behind a thin
 * HTTP front that can hold submit requests back (see SimFront).
 */

export const TENANT = 'acme';
export const TOKEN = 'tok';
export const PREFIX = 'bs';

/** Worker settings for fast recovery (lock taken over after ~2 s; submit lease 8 s). */
export const FAST_WORKER_ENV: Readonly<Record<string, string>> = {
  WORKER_LOCK_MS: '2000',
  POLL_MIN_MS: '100',
  POLL_MAX_MS: '1000',
  FOXAPI_TIMEOUT_MS: '3000',
  FOXAPI_MAX_RPS: '200',
  FOXAPI_API_KEY: 'sk-sim',
  LOG_LEVEL: 'info',
  // No metrics listener: several workers of one test (or of parallel test files) share a host.
  WORKER_METRICS_PORT: '0',
};

export interface FaultStackOptions {
  sim?: SimOptions;
  /** Extra env for every worker this stack starts (per-start overrides win). */
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface JobObservations {
  seen: number;
  last?: Job;
  /** Observations where the counts did not add up (the counts invariant, docs/architecture.md). */
  broken: Job[];
  statuses: Set<string>;
}

export class FaultStack {
  readonly children: ChildHandle[] = [];
  api: ChildHandle | undefined;
  readonly keys: KeyLayout = createKeyLayout(PREFIX);
  /** The fs blob store every child shares (as api and workers share a volume in production). */
  private readonly dataDir = mkdtempSync(join(tmpdir(), 'bs-faults-'));
  private readonly blobs = new FsBlobStore(this.dataDir);
  readonly transcripts = new TranscriptStore(this.blobs, PREFIX);
  private queueHandle: Queue<BatchJobPayload> | undefined;

  private constructor(
    readonly redis: LocalRedis,
    /** The test's own connection (worker profile: survives a Redis restart). */
    readonly admin: Redis,
    readonly front: SimFront,
    readonly apiPort: number,
    private readonly opts: FaultStackOptions,
  ) {}

  get sim(): FoxapiSimulator {
    return this.front.sim;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  static async start(opts: FaultStackOptions = {}): Promise<FaultStack> {
    const [redis, front, apiPort] = await Promise.all([
      startLocalRedis({ appendOnly: true }),
      SimFront.start({ taskDurationMs: 500, ...opts.sim }),
      freePort(),
    ]);
    const admin = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    admin.on('error', () => undefined);
    return new FaultStack(redis, admin, front, apiPort, opts);
  }

  private commonEnv(): Record<string, string> {
    return { REDIS_URL: this.redis.url, QUEUE_PREFIX: PREFIX, LOG_LEVEL: 'info', BLOB_STORE: 'fs', DATA_DIR: this.dataDir };
  }

  /** Starts the api and waits until /healthz answers. */
  async startApi(env: Record<string, string> = {}): Promise<ChildHandle> {
    const n = this.children.filter((c) => c.name.startsWith('api')).length;
    const handle = new ChildHandle(`api${n}`, 'apps/api/src/main.ts', {
      ...this.commonEnv(),
      API_KEYS: `${TENANT}:${TOKEN}`,
      PORT: String(this.apiPort),
      HOST: '127.0.0.1',
      ...this.opts.apiEnv,
      ...env,
    });
    this.children.push(handle);
    this.api = handle;
    await handle.waitForLine((l) => l.includes('"msg":"api listening"'), 20_000, 'api listening');
    // The api listens before its Redis connection is up (requests then get 503): wait for it.
    await waitFor(
      async () => {
        const res = await this.request<{ checks?: { redis?: string } }>('GET', '/readyz', { token: null });
        return res.status === 200 || res.body.checks?.redis === 'ok' ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `${handle.name}: Redis connection up (/readyz checks.redis ok)` },
    );
    return handle;
  }

  /** Starts a worker and waits for its "worker started" line (its first heartbeat is written by then). */
  async startWorker(env: Record<string, string> = {}, name?: string): Promise<ChildHandle> {
    this.front.dropHeld(); // submits held by killWorkerOutsideSubmitWindow never reach foxapi
    const n = this.children.filter((c) => c.name.startsWith('worker')).length;
    const workerEnv = { ...this.commonEnv(), ...FAST_WORKER_ENV, FOXAPI_BASE_URL: this.front.url, ...this.opts.workerEnv, ...env };
    const handle = new ChildHandle(name ?? `worker${n}`, workerEntryFor(workerEnv), workerEnv);
    this.children.push(handle);
    await handle.waitForLine((l) => l.includes('"msg":"worker started"'), 20_000, 'worker started');
    return handle;
  }

  /** GET /readyz until 200 (Redis answers and a worker heartbeat is fresh). */
  /** The usual start of a crash test: the api and one worker, both ready to serve. */
  async startApiAndWorker(workerEnv: Record<string, string> = {}, workerName?: string): Promise<ChildHandle> {
    const [, worker] = await Promise.all([this.startApi(), this.startWorker(workerEnv, workerName)]);
    await this.waitReady();
    return worker;
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => ((await this.request('GET', '/readyz', { token: null })).status === 200 ? true : undefined), {
      timeoutMs,
      intervalMs: 100,
      what: 'GET /readyz 200',
    });
  }

  async request<T = unknown>(
    method: string,
    path: string,
    opts: { body?: string; contentType?: string; token?: string | null } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = {};
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await fetch(this.apiUrl + path, { method, headers, body: opts.body, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  async submitUrls(files: string[]): Promise<Job> {
    const res = await this.request<Job>('POST', '/v1/jobs', { body: JSON.stringify({ file_urls: files }) });
    if (res.status !== 202) throw new Error(`submit failed: ${res.status} ${res.text}`);
    return res.body;
  }

  /**
   * Polls GET /v1/jobs/{id} until `done`, checking the counts invariant on every observation
   * (a 503 while Redis is down is just not an observation). Fails at once when the simulator
   * sees a URL submitted twice, unless `allowDuplicates`.
   */
  async waitForJob(
    id: string,
    obs: JobObservations,
    opts: { done?: (job: Job) => boolean; timeoutMs?: number; allowDuplicates?: boolean } = {},
  ): Promise<Job> {
    const done = opts.done ?? isTerminal;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      const dup = this.sim.stats().duplicateSubmissions;
      if (dup > 0 && !opts.allowDuplicates) {
        throw new Error(`foxapi saw ${dup} duplicate URL submissions while waiting for job ${id}; last seen: ${JSON.stringify(obs.last)}`);
      }
      try {
        const res = await this.request<Job>('GET', `/v1/jobs/${id}`);
        if (res.status === 200) {
          obs.seen += 1;
          obs.last = res.body;
          obs.statuses.add(res.body.status);
          if (!countsAddUp(res.body)) obs.broken.push(res.body);
          if (done(res.body)) return res.body;
        } else {
          lastError = `HTTP ${res.status}`;
        }
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for job ${id}; last seen: ${JSON.stringify(obs.last ? { status: obs.last.status, counts: obs.last.counts, batches: obs.last.batches } : null)}${lastError ? `; last error: ${lastError}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async allResults(jobId: string): Promise<
    Array<{
      index: number;
      file_url: string;
      status: string;
      batch: number;
      task_id: string | null;
      transcript: { text: string } | null;
      error: { code: string } | null;
    }>
  > {
    const res = await fetch(`${this.apiUrl}/v1/jobs/${jobId}/results`, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/x-ndjson' },
    });
    if (res.status !== 200) throw new Error(`results: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  }

  /** Every key in the test's Redis (it is the test's own: no prefix filter needed). */
  async allKeys(match = '*'): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.admin.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found.sort();
  }

  /** Batch intent-record states of one job, by batch number. */
  async batchStates(jobId: string, batches: number): Promise<string[]> {
    const pipe = this.admin.pipeline();
    for (let b = 0; b < batches; b++) pipe.hget(this.keys.batch(jobId, b), 'state');
    const res = (await pipe.exec()) ?? [];
    return res.map(([, v]) => String(v));
  }

  /** A BullMQ queue handle on the test's Redis (read-only use: job lookups, counts). */
  queue(): Queue<BatchJobPayload> {
    this.queueHandle ??= new Queue<BatchJobPayload>(QUEUES.batches, { connection: this.admin, prefix: this.keys.bullPrefix });
    return this.queueHandle;
  }

  async bullJobExists(jobId: string, batch: number): Promise<boolean> {
    return (await this.admin.exists(`${this.keys.bullPrefix}:${QUEUES.batches}:${batchQueueJobId(jobId, batch)}`)) === 1;
  }

  /** POSTs a body with node:http so the test controls when it was fully sent. */
  postRaw(path: string, body: string, contentType: string, onSent?: () => void): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${this.apiUrl}${path}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body, () => onSent?.());
    });
  }

  /**
   * SIGKILLs a worker at a moment when no submit that foxapi has seen is unrecorded, so that
   * the kill itself cannot create an ambiguous-but-real task (docs/upstream.md, "Submitting without idempotency"):
   *  1. new submits are held at the simulator's front door (they never reach foxapi);
   *  2. wait until foxapi is answering no submit, and every batch in `submitting` is either one
   *     whose request is held or one cut by an earlier kill of this kind (same claim token);
   *  3. SIGKILL and wait for the exit; the held requests are dropped by the next startWorker.
   * Batches whose request was held are left `submitting` with no task at foxapi: a worker
   * with SUBMIT_RETRY_AMBIGUOUS=true resends them after their lease, without duplicating.
   * Returns the batches cut that way.
   */
  async killWorkerOutsideSubmitWindow(
    worker: ChildHandle,
    jobId: string,
    batches: number,
    batchOfUrl: (url: string) => number,
  ): Promise<number[]> {
    this.front.holdSubmits();
    try {
      await waitFor(
        async () => {
          if (this.front.submitsInFlight > 0) return undefined;
          const heldBefore = this.front.heldUrls();
          if (heldBefore.some((u) => u === undefined)) return undefined;
          const pipe = this.admin.pipeline();
          for (let b = 0; b < batches; b++) pipe.hmget(this.keys.batch(jobId, b), 'state', 'claim');
          const rows = ((await pipe.exec()) ?? []).map(([, v]) => v as [string | null, string | null]);
          const heldAfter = this.front.heldUrls();
          if (heldAfter.length !== heldBefore.length || this.front.submitsInFlight > 0) return undefined;
          const heldBatches = new Set(heldBefore.flatMap((urls) => (urls ?? []).map(batchOfUrl)));
          for (const [b, [state, claim]] of rows.entries()) {
            if (state !== 'submitting') continue;
            if (heldBatches.has(b)) continue;
            if (claim !== null && this.neverSent.get(b) === claim) continue;
            return undefined; // claimed and about to send, or answered and not yet recorded
          }
          return true;
        },
        { timeoutMs: 20_000, intervalMs: 5, what: `${worker.name}: a moment with no foxapi-visible submit unrecorded` },
      );
    } catch (err) {
      this.front.dropHeld();
      throw err;
    }
    await worker.kill('SIGKILL');
    // With every worker dead, a batch still `submitting` had its request held (or not yet
    // sent): foxapi never saw it. Submits stay held until the next startWorker, so a request
    // the dead worker had already written to its socket cannot reach foxapi late.
    const cut: number[] = [];
    for (let b = 0; b < batches; b++) {
      const [state, claim] = await this.admin.hmget(this.keys.batch(jobId, b), 'state', 'claim');
      if (state === 'submitting' && typeof claim === 'string' && this.neverSent.get(b) !== claim) {
        this.neverSent.set(b, claim);
        cut.push(b);
      }
    }
    return cut;
  }

  /** Batches cut by killWorkerOutsideSubmitWindow → the claim token whose request never left. */
  private readonly neverSent = new Map<number, string>();

  /** The last log lines of every child, for a failing test's message. */
  diagnostics(n = 30): string {
    const stats = this.sim.stats();
    const head = `sim: submissions=${stats.submissions} duplicates=${stats.duplicateSubmissions} polls=${stats.polls} downloads=${stats.downloads} byStatus=${JSON.stringify(stats.byStatus)}`;
    return [head, ...this.children.map((c) => c.tail(n))].join('\n');
  }

  /** Every warning or error line the children logged (pino level >= 40). */
  problems(): string {
    return this.children
      .flatMap((c) => c.lines.filter((l) => /"level":(4|5|6)0/.test(l)).map((l) => `  [${c.name}] ${l.slice(0, 500)}`))
      .join('\n');
  }

  /** Runs a test body; on failure, appends every child's last log lines to the error. */
  async diagnose<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      // FAULTS_DEBUG=1 shows the children's warnings and errors of passing tests too.
      if (process.env.FAULTS_DEBUG) process.stderr.write(`${this.problems()}\n`);
      return result;
    } catch (err) {
      if (err instanceof Error) err.message += `\n--- last log lines ---\n${this.diagnostics()}`;
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((c) => c.kill('SIGKILL')));
    await this.queueHandle?.close().catch(() => undefined);
    this.admin.disconnect();
    await this.front.close();
    await this.redis.stop();
    await this.blobs.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** How many transcripts of the job are in the blob store. */
  async transcriptCount(jobId: string): Promise<number> {
    return (await this.transcripts.storedIndexes(jobId)).length;
  }
}

export function newObservations(): JobObservations {
  return { seen: 0, broken: [], statuses: new Set() };
}

export function urlList(n: number, tag: string): string[] {
  return Array.from({ length: n }, (_, i) => `https://media.example.com/${tag}-${i}.wav`);
}

/** Awaits `p`, failing with `what` after `ms` (the timer is cleared either way). */
export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
