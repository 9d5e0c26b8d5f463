import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createFoxapiSimulator, type FoxapiSimulator } from '@batchscribe/foxapi-sim';
import type { Job } from '@batchscribe/shared';
import { freePort } from '../../scripts/lib/local-redis.js';
import { blobEnvFor, removeBlobEnv } from '../support/blob-env.js';
import { startLocalRedisCluster, type LocalRedisCluster } from '../support/local-redis-cluster.js';
import { ChildHandle } from '../support/child-handle.js';
import { FAST_WORKER_ENV, urlList } from '../support/fault-stack.js';
import { countsAddUp, isTerminal } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';
import { workerEntryFor } from '../support/worker-entry.js';

/**
 * The api and the worker, as child processes, on a Redis Cluster of three masters selected by
 * REDIS_CLUSTER_NODES. REDIS_URL points at a closed port, so anything that ignored the cluster
 * setting would fail. Each test has its own QUEUE_PREFIX, i.e. its own hash tag and slot:
 * `{clb}` is slot 152 and `{cla}` slot 12539, on the first and the third of the three even slot
 * ranges `redis-cli --cluster create` assigns, so the two tests run on different masters.
 */

const TOKEN = 'tok-cluster';
const FILES = 250;
const BATCHES = 3;

let cluster: LocalRedisCluster | undefined;
/** The fs blob store the api and workers share, as they would a volume. */
const blobEnv = blobEnvFor('fs');
let sim: FoxapiSimulator | undefined;
let simUrl = '';
const children: ChildHandle[] = [];

beforeAll(async () => {
  cluster = await startLocalRedisCluster(3);
}, 60_000);

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  await sim?.close();
  sim = undefined;
});

afterAll(async () => {
  await cluster?.stop();
  removeBlobEnv(blobEnv);
});

async function startSim(): Promise<FoxapiSimulator> {
  sim = createFoxapiSimulator({ taskDurationMs: 500 });
  simUrl = (await sim.listen(0)).url;
  return sim;
}

function clusterEnv(prefix: string): Record<string, string> {
  return {
    REDIS_CLUSTER_NODES: cluster!.nodes.join(','),
    REDIS_URL: 'redis://127.0.0.1:1',
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
    ...blobEnv,
  };
}

async function startApi(prefix: string): Promise<string> {
  const port = await freePort();
  const api = new ChildHandle('api', 'apps/api/src/main.ts', {
    ...clusterEnv(prefix),
    API_KEYS: `acme:${TOKEN}`,
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  children.push(api);
  await api.waitForLine((l) => l.includes('"msg":"api listening"'), 20_000, 'api listening');
  return `http://127.0.0.1:${port}`;
}

async function startWorker(prefix: string, name: string, env: Record<string, string> = {}): Promise<ChildHandle> {
  const workerEnv = { ...clusterEnv(prefix), ...FAST_WORKER_ENV, FOXAPI_BASE_URL: simUrl, ...env };
  const worker = new ChildHandle(name, workerEntryFor(workerEnv), workerEnv);
  children.push(worker);
  await worker.waitForLine((l) => l.includes('"msg":"worker started"'), 20_000, `${name} started`);
  return worker;
}

async function call<T>(apiUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(apiUrl + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (/json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text) as T, text };
}

/** GET /readyz until 200: the api reaches the cluster and sees the worker's heartbeat. */
async function waitReady(apiUrl: string): Promise<void> {
  await waitFor(async () => ((await fetch(`${apiUrl}/readyz`)).status === 200 ? true : undefined), {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: 'GET /readyz 200',
  });
}

async function waitForEnd(apiUrl: string, id: string, timeoutMs = 60_000): Promise<Job> {
  return waitFor(
    async () => {
      const res = await call<Job>(apiUrl, 'GET', `/v1/jobs/${id}`);
      if (res.status !== 200) return undefined;
      if (!countsAddUp(res.body))
        throw new Error(`counts do not add up: ${JSON.stringify(res.body.counts)} ${JSON.stringify(res.body.batches)}`);
      return isTerminal(res.body) ? res.body : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `job ${id} to end` },
  );
}

async function submit(apiUrl: string, files: string[]): Promise<Job> {
  const res = await call<Job>(apiUrl, 'POST', '/v1/jobs', { file_urls: files });
  if (res.status !== 202) throw new Error(`submit: ${res.status} ${res.text}`);
  return res.body;
}

async function resultStatuses(apiUrl: string, id: string): Promise<string[]> {
  const res = await fetch(`${apiUrl}/v1/jobs/${id}/results`, {
    headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/x-ndjson' },
  });
  const text = await res.text();
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { status: string }).status);
}

function logsOnFailure(err: unknown): never {
  if (err instanceof Error) err.message += `\n--- last log lines ---\n${children.map((c) => c.tail(30)).join('\n')}`;
  throw err;
}

describe('on a Redis Cluster of three masters (REDIS_CLUSTER_NODES)', () => {
  it('when a 250-URL job is submitted, then it completes in 3 batches with each URL submitted once', async () => {
    const s = await startSim();
    await (async () => {
      const [apiUrl] = await Promise.all([startApi('clb'), startWorker('clb', 'worker')]);
      await waitReady(apiUrl);
      const created = await submit(apiUrl, urlList(FILES, 'cluster-core'));
      expect(created.batches.total).toBe(BATCHES);

      const job = await waitForEnd(apiUrl, created.id);

      expect(job.status).toBe('completed');
      expect(job.counts).toMatchObject({ total: FILES, completed: FILES });
      expect(job.batches).toMatchObject({ total: BATCHES, completed: BATCHES });
      expect(s.stats().submissions).toBe(BATCHES);
      expect(s.stats().duplicateSubmissions).toBe(0);
      const statuses = await resultStatuses(apiUrl, created.id);
      expect(statuses).toHaveLength(FILES);
      expect(statuses.every((st) => st === 'completed')).toBe(true);
      const transcript = await call<string>(apiUrl, 'GET', `/v1/jobs/${created.id}/files/7/transcript?format=txt`);
      expect(transcript.status).toBe(200);
      expect(transcript.text).toContain('cluster-core-7');
    })().catch(logsOnFailure);
  }, 90_000);

  it('when a worker is SIGKILLed after a submit and a fresh worker starts, then the job completes with each URL submitted once', async () => {
    const s = await startSim();
    await (async () => {
      // One slot, so that no second submit is cut mid-request (that window is ambiguous by design).
      const [apiUrl, workerA] = await Promise.all([
        startApi('cla'),
        startWorker('cla', 'workerA', { BATCHSCRIBE_CRASH_AT: 'after-submit-recorded', WORKER_CONCURRENCY: '1', WORKER_LOCK_MS: '2000' }),
      ]);
      await waitReady(apiUrl);
      const created = await submit(apiUrl, urlList(FILES, 'cluster-kill'));

      const exit = await workerA.exited;
      expect(exit.signal).toBe('SIGKILL');
      expect(s.stats().submissions).toBe(1);
      await startWorker('cla', 'workerB', { WORKER_LOCK_MS: '2000' });
      const job = await waitForEnd(apiUrl, created.id);

      expect(job.status).toBe('completed');
      expect(job.counts).toMatchObject({ total: FILES, completed: FILES });
      expect(s.stats().submissions).toBe(BATCHES);
      expect(s.stats().duplicateSubmissions).toBe(0);
    })().catch(logsOnFailure);
  }, 90_000);
});
