import { createFoxapiSimulator, type SimOptions, type SimStats } from '@batchscribe/foxapi-sim';
import type { Job } from '@batchscribe/shared';
import { JobWriter, benchUrls, jobWallMs, startWorkers } from './bench-stack.js';
import {
  commandCalls,
  commandDelta,
  dropPrefix,
  keysOfPrefix,
  memoryUsage,
  redisCpuSeconds,
  usedMemory,
  type BenchRedis,
} from './bench-redis.js';
import type { ServiceProcess } from './service-process.js';

const round1 = (v: number) => Math.round(v * 10) / 10;

export interface PipelineOptions {
  prefix: string;
  files: number;
  workers: number;
  sim: SimOptions;
  workerEnv: Record<string, string>;
  /** URLs per batch (the api's BATCH_SIZE); default 100. */
  batchSize?: number;
  timeoutMs: number;
  /** Keep the job's keys after the run (for footprint or read benchmarks); default: dropped. */
  keep?: boolean;
  /** Called with the job id right after it is written, before waiting for its end. */
  onCreated?: (job: Job) => void;
}

export interface PipelineRun {
  job: Job;
  urls: string[];
  wallMs: number;
  sim: SimStats;
  /** Redis commands run between job creation and its end (commandstats delta, scripts' inner calls included). */
  commands: { total: number; byCommand: Record<string, number> };
  /** Redis used_memory growth from before the job to after every worker stopped, bytes. */
  memoryDelta: number;
  /** MEMORY USAGE of the job's keys, by kind, bytes. */
  keyMemory: Record<string, number>;
  /** CPU seconds used during the job by the workers (sum), this process (simulator and probes) and Redis. */
  cpu: { workers: number; benchProcess: number; redis: number };
}

/**
 * One job through the real worker processes against the simulator: written as the api writes
 * it (see JobWriter), processed by `workers` processes, timed by the job's own created_at and
 * finished_at.
 */
export async function runPipeline(redis: BenchRedis, opts: PipelineOptions): Promise<PipelineRun> {
  const sim = createFoxapiSimulator(opts.sim);
  const { url: simUrl } = await sim.listen(0);
  const writer = new JobWriter(redis.client, opts.prefix, opts.batchSize ?? 100);
  let workers: ServiceProcess[] = [];
  try {
    const memBefore = await usedMemory(redis.client);
    workers = await startWorkers(redis.url, opts.prefix, simUrl, opts.workers, opts.workerEnv, `worker-${opts.prefix}`);
    const urls = benchUrls(opts.files, opts.prefix);
    const before = await commandCalls(redis.client);
    const cpuBefore = {
      workers: workers.reduce((s, w) => s + w.cpuSeconds(), 0),
      bench: process.cpuUsage(),
      redis: await redisCpuSeconds(redis.client),
    };
    const created = await writer.create(urls);
    opts.onCreated?.(created);
    const job = await writer.waitForEnd(created.id, opts.timeoutMs);
    const commands = commandDelta(before, await commandCalls(redis.client));
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const cpu = {
      workers: round1(workers.reduce((s, w) => s + w.cpuSeconds(), 0) - cpuBefore.workers),
      benchProcess: round1((benchCpu.user + benchCpu.system) / 1e6),
      redis: round1((await redisCpuSeconds(redis.client)) - cpuBefore.redis),
    };
    const simStats = sim.stats();
    await Promise.all(workers.map((w) => w.stop()));
    const memoryDelta = (await usedMemory(redis.client)) - memBefore;
    const keys = writer.keys;
    const batchKeys = Array.from({ length: job.batches.total }, (_, b) => keys.batch(job.id, b));
    const bullKeys = (await keysOfPrefix(redis.client, opts.prefix)).filter((k) => !k.startsWith(keys.jobKeyPrefix(job.id)));
    const keyMemory = {
      job: await memoryUsage(redis.client, [keys.job(job.id)]),
      batches: await memoryUsage(redis.client, batchKeys),
      bullmqAndShared: await memoryUsage(redis.client, bullKeys),
    };
    return { job, urls, wallMs: jobWallMs(job), sim: simStats, commands, memoryDelta, keyMemory, cpu };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await writer.close();
    await sim.close();
    if (!opts.keep) await dropPrefix(redis.client, opts.prefix);
  }
}
