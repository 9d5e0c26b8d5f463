import type { BenchRedis } from './lib/bench-redis.js';
import { runPipeline } from './lib/pipeline-run.js';
import { result, type BenchResult } from './lib/results.js';

/** 1,000 batches against 50 foxapi task slots: 950 of them park at first, as a 100k-file job does. */
const BATCHES = 1_000;
const SLOTS = 50;
/**
 * Short tasks keep the run under two minutes. At RPS the submits and polls need about 45 s of
 * budget against the slots' 60 s, so the rate has little to spare: any request a parked batch
 * booked (950 of them, each waking every 30 s or when a slot frees) would come out of the polls
 * that free slots.
 */
const TASK_MS = 3_000;
const RPS = 60;
const PREFIX = 'bench-parked';

/**
 * Benchmark of parked batches: a job of BATCHES one-file batches under FOXAPI_MAX_INFLIGHT_TASKS
 * = SLOTS and FOXAPI_MAX_RPS = RPS. The floor is what the two caps allow at best: the slots
 * turned over BATCHES ÷ SLOTS times, each for a task's duration, or the upstream requests made
 * (submits and polls) at RPS, whichever is longer. Waiting batches must cost no request budget
 * for the wall time to stay near it.
 */
export async function parkedBench(redis: BenchRedis): Promise<BenchResult[]> {
  const run = await runPipeline(redis, {
    prefix: PREFIX,
    files: BATCHES,
    batchSize: 1,
    workers: 1,
    sim: { taskDurationMs: TASK_MS, maxRps: RPS },
    workerEnv: {
      FOXAPI_MAX_RPS: String(RPS),
      FOXAPI_MAX_INFLIGHT_TASKS: String(SLOTS),
      POLL_MIN_MS: '100',
      WORKER_CONCURRENCY: '50',
    },
    timeoutMs: 300_000,
  });
  const requests = run.sim.submissions + run.sim.polls + run.sim.rateLimited;
  const slotFloorS = (BATCHES / SLOTS) * (TASK_MS / 1000);
  const requestFloorS = requests / RPS;
  const floorS = Math.max(slotFloorS, requestFloorS);
  return [
    result(
      'parked-wall-time',
      run.wallMs / 1000,
      floorS,
      's',
      { ratioAtMost: 1.5 },
      {
        batches: BATCHES,
        slots: SLOTS,
        taskDurationMs: TASK_MS,
        rps: RPS,
        floor: `max(${BATCHES} ÷ ${SLOTS} × ${TASK_MS / 1000} s = ${slotFloorS} s, ${requests} requests ÷ ${RPS}/s = ${requestFloorS.toFixed(1)} s)`,
        submissions: run.sim.submissions,
        polls: run.sim.polls,
        rateLimited429: run.sim.rateLimited,
        duplicateSubmissions: run.sim.duplicateSubmissions,
        jobStatus: run.job.status,
        redisCommandsPerBatch: Math.round(run.commands.total / BATCHES),
        cpu: run.cpu,
      },
    ),
  ];
}
