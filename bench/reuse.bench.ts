import { createFoxapiSimulator } from '@batchscribe/foxapi-sim';
import { FsBlobStore, createKeyLayout, type Job } from '@batchscribe/shared';
import { BENCH_DATA_DIR, BENCH_TOKEN, benchUrls, jobWallMs, startApi, startWorkers } from './lib/bench-stack.js';
import { dropPrefix, keysOfPrefix, memoryUsage, type BenchRedis } from './lib/bench-redis.js';
import { result, type BenchResult } from './lib/results.js';
import type { ServiceProcess } from './lib/service-process.js';

const FILES = 10_000;
const PREFIX = 'bench-reuse';
/** FOXAPI_MAX_RPS of the worker and the simulator's own cap: the first run is bound by it, as it is in production. */
const RPS = 20;
const auth = { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': 'application/json' };

async function submit(api: string, urls: string[]): Promise<{ job: Job; intakeMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${api}/v1/jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ file_urls: urls, reuse: true }) });
  const intakeMs = performance.now() - t0;
  if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  return { job: (await res.json()) as Job, intakeMs };
}

async function waitForEnd(api: string, id: string, timeoutMs: number): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await (await fetch(`${api}/v1/jobs/${id}`, { headers: auth })).json()) as Job;
    if (job.finished_at !== null) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} did not end within ${timeoutMs} ms: ${JSON.stringify(job.counts)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Issue 14's benchmark: one 10,000-file job submitted twice with `reuse: true`, through the api
 * and one worker against the simulator. The first run transcribes everything (bound by
 * FOXAPI_MAX_RPS); the second must make no foxapi request and end at intake speed. Reports the
 * second run's wall time against the first's, its foxapi requests, and what the tenant's reuse
 * index costs in Redis per file (and what the reused files add to the second job's own keys).
 */
export async function reuseBench(redis: BenchRedis): Promise<BenchResult[]> {
  const sim = createFoxapiSimulator({ taskDurationMs: 1_000, maxRps: RPS });
  const { url: simUrl } = await sim.listen(0);
  const keys = createKeyLayout(PREFIX);
  let workers: ServiceProcess[] = [];
  const api = await startApi(redis.url, PREFIX, 'api-reuse');
  try {
    workers = await startWorkers(redis.url, PREFIX, simUrl, 1, { FOXAPI_MAX_RPS: String(RPS) }, 'worker-reuse');
    const urls = benchUrls(FILES, PREFIX);

    const first = await submit(api.url, urls);
    const firstDone = await waitForEnd(api.url, first.job.id, 600_000);
    if (firstDone.counts.completed !== FILES) throw new Error(`first run ended ${firstDone.status}: ${JSON.stringify(firstDone.counts)}`);
    const requestsBefore = sim.stats().requests;
    const indexKeys = (await keysOfPrefix(redis.client, PREFIX)).filter((k) => k.startsWith(`{${PREFIX}}:reuse:`));
    const indexBytes = await memoryUsage(redis.client, indexKeys);
    const firstJobBytes = await memoryUsage(
      redis.client,
      (await keysOfPrefix(redis.client, PREFIX)).filter((k) => k.startsWith(keys.jobKeyPrefix(first.job.id))),
    );

    const second = await submit(api.url, urls);
    const secondDone = await waitForEnd(api.url, second.job.id, 600_000);
    const stats = sim.stats();
    if (secondDone.usage.reused_files !== FILES) throw new Error(`second run reused ${secondDone.usage.reused_files} of ${FILES}`);
    const secondRequests = stats.requests - requestsBefore;
    const secondJobBytes = await memoryUsage(
      redis.client,
      (await keysOfPrefix(redis.client, PREFIX)).filter((k) => k.startsWith(keys.jobKeyPrefix(second.job.id))),
    );

    const settings = {
      files: FILES,
      batches: firstDone.batches.total,
      workers: 1,
      rps: RPS,
      simTaskDurationMs: 1_000,
      firstRun: { wallS: jobWallMs(firstDone) / 1000, intakeMs: Math.round(first.intakeMs), foxapiRequests: requestsBefore },
      secondRun: {
        wallS: jobWallMs(secondDone) / 1000,
        intakeMs: Math.round(second.intakeMs),
        foxapiRequests: secondRequests,
        batches: secondDone.batches,
        usage: secondDone.usage,
      },
    };
    return [
      result(
        'reuse-second-run-wall-time',
        jobWallMs(secondDone) / 1000,
        jobWallMs(firstDone) / 1000,
        's',
        { ratioAtMost: 0.2 },
        { ...settings, how: "each run's own created_at → finished_at; baseline: the first run, which transcribed every file" },
      ),
      result('reuse-second-run-foxapi-requests', secondRequests, null, 'requests', { valueAtMost: 0 }, settings),
      result(
        'reuse-index-redis-bytes-per-file',
        indexBytes / FILES,
        null,
        'B',
        { valueAtMost: 100 },
        {
          ...settings,
          indexKeys: indexKeys.length,
          how: "MEMORY USAGE SAMPLES 0 of the tenant's reuse index keys after the first run ÷ files (what every finished file adds, whichever job asks for reuse)",
          firstJobKeysBytesPerFile: Math.round(firstJobBytes / FILES),
        },
      ),
      result('reuse-reused-job-redis-bytes-per-file', secondJobBytes / FILES, firstJobBytes / FILES, 'B', null, {
        ...settings,
        how: "MEMORY USAGE of the second job's keys ÷ files; baseline: the first job's (the reused files also name their source)",
      }),
    ];
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await api.proc.stop();
    await sim.close();
    await dropPrefix(redis.client, PREFIX);
    const blobs = new FsBlobStore(BENCH_DATA_DIR);
    await blobs.deleteByPrefix(`${PREFIX}/`);
    await blobs.close();
  }
}
