import { transcriptionFor } from '@batchscribe/foxapi-sim';
import { FsBlobStore } from '@batchscribe/shared';
import { BENCH_DATA_DIR } from './lib/bench-stack.js';
import type { BenchRedis } from './lib/bench-redis.js';
import { dropPrefix } from './lib/bench-redis.js';
import { runPipeline } from './lib/pipeline-run.js';
import { result, type BenchResult } from './lib/results.js';

const FILES = 20_000;
const BATCHES = FILES / 100;
/**
 * FOXAPI_MAX_RPS for this benchmark (its default); the simulator enforces the same cap (excess
 * → 429). Low enough that the cap, not this machine's CPU, bounds the run: the floor is 40 s,
 * i.e. 500 files/s to download and store.
 */
const RPS = 10;
const PREFIX = 'bench-upstream';

/**
 * Benchmarks 2 and 6. 20,000 files with near-instant tasks under FOXAPI_MAX_RPS=RPS: wall time
 * against the floor (the fewest foxapi requests, one submit and one poll per batch, ÷ RPS) and
 * requests per batch. The same run's Redis footprint: bytes per finished file (transcripts are
 * in the blob store, not Redis), and the stored transcripts' size against the raw JSON foxapi
 * served.
 */
export async function upstreamBench(redis: BenchRedis): Promise<BenchResult[]> {
  const run = await runPipeline(redis, {
    prefix: PREFIX,
    files: FILES,
    workers: 1,
    sim: { taskDurationMs: 0, maxRps: RPS },
    workerEnv: { FOXAPI_MAX_RPS: String(RPS) },
    timeoutMs: 240_000,
    keep: true,
  });
  try {
    const floorMs = ((2 * BATCHES) / RPS) * 1000;
    const requests = run.sim.requests;
    const { job } = run;
    const settings = {
      files: FILES,
      batches: BATCHES,
      rps: RPS,
      workers: 1,
      taskDurationMs: 0,
      workerConcurrency: 50,
      maxInflightTasks: 50,
    };
    const upstream = {
      requests,
      submissions: run.sim.submissions,
      polls: run.sim.polls,
      downloads: run.sim.downloads,
      rateLimited429: run.sim.rateLimited,
      duplicateSubmissions: run.sim.duplicateSubmissions,
      jobStatus: job.status,
      redisCommandsPerBatch: Math.round(run.commands.total / BATCHES),
      redisTopCommands: Object.fromEntries(Object.entries(run.commands.byCommand).slice(0, 12)),
    };

    const compressed = await transcriptBytes(run.job.id, PREFIX);
    const raw = run.urls.reduce((sum, url) => sum + Buffer.byteLength(JSON.stringify(transcriptionFor(url))), 0);
    const perFile = run.memoryDelta / FILES;
    return [
      result(
        'upstream-wall-time',
        run.wallMs / 1000,
        floorMs / 1000,
        's',
        { ratioAtMost: 1.25 },
        { ...settings, ...upstream, floor: `${2 * BATCHES} requests ÷ ${RPS}/s` },
      ),
      result(
        'upstream-requests-per-batch',
        requests / BATCHES,
        2,
        'requests',
        { valueAtMost: 2.5 },
        { ...settings, ...upstream, baselineMeaning: 'the minimum: one submit and one poll' },
      ),
      result(
        'footprint-bytes-per-file',
        (run.keyMemory.job! + run.keyMemory.batches!) / FILES,
        null,
        'B',
        { valueAtMost: 150 },
        {
          how: "MEMORY USAGE of the job's keys (its record and its batch records, which carry the files) after the 20,000-file job ended, ÷ files: the state that grows with the files (transcripts are in the blob store)",
          memoryUsageByKind: run.keyMemory,
          usedMemoryDeltaPerFile: Math.round(perFile),
          usedMemoryDeltaNote:
            "Redis used_memory after the job minus before it, ÷ files: adds BullMQ's records (its event stream is capped at 10,000 entries whatever the job's size, its completed jobs are kept an hour) and the allocator's overhead",
        },
      ),
      result(
        'footprint-transcript-compression',
        compressed / FILES,
        raw / FILES,
        'B/transcript',
        { ratioAtMost: 0.4 },
        {
          how: 'stored (brotli) bytes of every transcript in the fs blob store against the JSON foxapi served for it',
        },
      ),
    ];
  } finally {
    await dropPrefix(redis.client, PREFIX);
    const blobs = new FsBlobStore(BENCH_DATA_DIR);
    await blobs.deleteByPrefix(`${PREFIX}/`);
    await blobs.close();
  }
}

async function transcriptBytes(jobId: string, prefix: string): Promise<number> {
  const blobs = new FsBlobStore(BENCH_DATA_DIR);
  let total = 0;
  for await (const entry of blobs.list(`${prefix}/jobs/${jobId}/tx/`)) total += entry.size;
  await blobs.close();
  return total;
}
