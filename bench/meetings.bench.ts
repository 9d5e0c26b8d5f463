import { createFoxapiSimulator } from '@batchscribe/foxapi-sim';
import { FsBlobStore } from '@batchscribe/shared';
import { BENCH_DATA_DIR, BENCH_TOKEN, JobWriter, startApi, startWorkers } from './lib/bench-stack.js';
import { dropPrefix, memoryUsage, keysOfPrefix, usedMemory, type BenchRedis } from './lib/bench-redis.js';
import { MB } from './lib/figures.js';
import { result, type BenchResult } from './lib/results.js';

const FILES = 500;
const MINUTES = 60;
const PREFIX = 'bench-meetings';
const auth = { authorization: `Bearer ${BENCH_TOKEN}` };

/** Reads a response body as a client would, counting its bytes (and lines, for NDJSON). */
async function drain(res: Response): Promise<{ bytes: number; lines: number }> {
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body!) {
    bytes += chunk.byteLength;
    for (const byte of chunk) if (byte === 0x0a) lines++;
  }
  return { bytes, lines };
}

/** The worker's own figure from its stop line (perf_hooks.monitorEventLoopDelay over its life). */
function eventLoopDelay(log: string): { p50: number; p99: number; max: number } {
  const line = log.split('\n').find((l) => l.includes('"msg":"worker stopped"'));
  const parsed = line ? (JSON.parse(line) as { eventLoopDelayMs?: { p50: number; p99: number; max: number } }) : {};
  if (!parsed.eventLoopDelayMs) throw new Error('the worker did not report its event-loop delay on stop');
  return parsed.eventLoopDelayMs;
}

/**
 * Issue 10's benchmark: one job of 500 files of an hour of speech each (~0.8 MB of upstream
 * JSON apiece) through one worker on its default settings and the fs blob store. Reports Redis
 * bytes per finished file, the worker's peak RSS and event-loop p99, and a fresh api's peak RSS
 * while exporting the job as NDJSON and while serving one page of every result, with the
 * export's throughput.
 */
export async function meetingsBench(redis: BenchRedis): Promise<BenchResult[]> {
  const sim = createFoxapiSimulator({ taskDurationMs: 200, transcriptMinutes: MINUTES });
  const { url: simUrl } = await sim.listen(0);
  const writer = new JobWriter(redis.client, PREFIX);
  const results: BenchResult[] = [];
  let workers = await startWorkers(redis.url, PREFIX, simUrl, 1, { FOXAPI_MAX_RPS: '50' }, 'worker-meetings');
  try {
    const memBefore = await usedMemory(redis.client);
    const urls = Array.from({ length: FILES }, (_, i) => `https://media.example.com/meetings/hour-${i}.m4a`);
    const created = await writer.create(urls);
    const t0 = performance.now();
    const job = await writer.waitForEnd(created.id, 600_000);
    const pipelineS = (performance.now() - t0) / 1000;
    const workerPeak = workers[0]!.memory()?.peak ?? Number.NaN;
    await Promise.all(workers.map((w) => w.stop()));
    const loop = eventLoopDelay(workers[0]!.log());
    workers = [];
    if (job.counts.completed !== FILES) throw new Error(`meetings job ended ${job.status} with ${JSON.stringify(job.counts)}`);

    const usedMemoryPerFile = ((await usedMemory(redis.client)) - memBefore) / FILES;
    const jobKeys = (await keysOfPrefix(redis.client, PREFIX)).filter((k) => k.includes(created.id));
    const jobKeysPerFile = (await memoryUsage(redis.client, jobKeys)) / FILES;
    const blobs = new FsBlobStore(BENCH_DATA_DIR);
    let storedBytes = 0;
    for await (const entry of blobs.list(`${PREFIX}/jobs/${created.id}/tx/`)) storedBytes += entry.size;
    await blobs.close();
    const settings = {
      files: FILES,
      minutesPerFile: MINUTES,
      workers: 1,
      pipelineS: Math.round(pipelineS),
      storedMBInBlobStore: Math.round((storedBytes / MB) * 10) / 10,
      storedKBPerFile: Math.round(storedBytes / FILES / 1024),
    };
    results.push(
      result(
        'meetings-redis-bytes-per-file',
        jobKeysPerFile,
        null,
        'B',
        { valueAtMost: 150 },
        {
          ...settings,
          how: 'MEMORY USAGE of every key of the job (its record and its batch records, which carry the files) ÷ files: what grows with the files; the transcripts are in the blob store',
          usedMemoryDeltaPerFile: Math.round(usedMemoryPerFile),
          usedMemoryNote:
            'used_memory after the job ended minus before it was written also holds what does not grow with this job: BullMQ’s event stream (up to 10,000 entries) and finished-job records, the Lua script cache and client buffers; on 500 files that fixed part dominates, which is why the upstream benchmark measures the delta on 20,000 files',
        },
      ),
      result(
        'meetings-worker-peak-rss',
        workerPeak / MB,
        null,
        'MB',
        { valueAtMost: 400 },
        { ...settings, how: 'VmHWM of the one worker' },
      ),
      result(
        'meetings-worker-event-loop-p99',
        loop.p99,
        null,
        'ms',
        { valueAtMost: 50 },
        {
          ...settings,
          how: "perf_hooks.monitorEventLoopDelay over the worker's life, from its stop line",
          p50: loop.p50,
          max: loop.max,
        },
      ),
    );

    // Export, then one page of every result, each from a fresh api so its peak is that request's.
    for (const kind of ['export', 'page'] as const) {
      const api = await startApi(redis.url, PREFIX, `api-meetings-${kind}`);
      try {
        const idle = api.proc.memory()?.rss ?? Number.NaN;
        const started = performance.now();
        const res =
          kind === 'export'
            ? await fetch(`${api.url}/v1/jobs/${created.id}/results`, { headers: { ...auth, accept: 'application/x-ndjson' } })
            : await fetch(`${api.url}/v1/jobs/${created.id}/results?limit=1000`, { headers: auth });
        const { bytes, lines } = await drain(res);
        const seconds = (performance.now() - started) / 1000;
        const peak = api.proc.memory()?.peak ?? Number.NaN;
        if (res.status !== 200 || (kind === 'export' && lines !== FILES)) throw new Error(`${kind}: HTTP ${res.status}, ${lines} lines`);
        const details = {
          ...settings,
          bodyMB: Math.round(bytes / MB),
          seconds: Math.round(seconds * 10) / 10,
          idleRssMB: Math.round(idle / MB),
        };
        results.push(
          result(
            `meetings-api-peak-rss-${kind}`,
            peak / MB,
            null,
            'MB',
            { valueAtMost: 300 },
            { ...details, how: `VmHWM of a fresh api that served only the ${kind}` },
          ),
        );
        if (kind === 'export')
          results.push(result('meetings-export-throughput', bytes / MB / seconds, null, 'MB/s', { valueAtLeast: 50 }, details));
      } finally {
        await api.proc.stop();
      }
    }
    return results;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await writer.close();
    await sim.close();
    await dropPrefix(redis.client, PREFIX);
    const blobs = new FsBlobStore(BENCH_DATA_DIR);
    await blobs.deleteByPrefix(`${PREFIX}/`);
    await blobs.close();
  }
}
