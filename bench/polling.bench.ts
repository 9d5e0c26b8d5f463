import { createFoxapiSimulator, type SimOptions, type SimTaskStats } from '@batchscribe/foxapi-sim';
import type { BenchRedis } from './lib/bench-redis.js';
import { benchUrls } from './lib/bench-stack.js';
import { mean, percentile } from './lib/figures.js';
import { runFixedIntervalPoller } from './lib/fixed-interval-poller.js';
import { runPipeline } from './lib/pipeline-run.js';
import { result, type BenchResult } from './lib/results.js';

const TASKS = 200;
/** POLL_MIN_MS of the worker and the interval of the baseline (the default 2 s, halved to fit the run in time). */
const POLL_MIN_MS = 1_000;
/**
 * Real durations spread 20× (1–20 s) around an estimate that is off by up to ±50%. Both
 * simulators get the same seed and see tasks created in order, so the k-th task of each has the
 * same duration and estimate: the two pollers face the same multiset of tasks.
 */
const SIM: SimOptions = { taskDurationMs: { min: 1_000, max: 20_000 }, estimatedTimeNoise: 0.5, seed: 7 };

interface PollFigures {
  meanPolls: number;
  p95LagMs: number;
  p50LagMs: number;
  maxLagMs: number;
}

function figures(tasks: SimTaskStats[]): PollFigures {
  const lags = tasks.map((t) => (t.detectedAt ?? Number.NaN) - t.doneAt);
  return {
    meanPolls: mean(tasks.map((t) => t.polls)),
    p95LagMs: percentile(lags, 95),
    p50LagMs: percentile(lags, 50),
    maxLagMs: Math.max(...lags),
  };
}

/**
 * Benchmark 3. TASKS one-file tasks through the worker (adaptive polling seeded by
 * estimated_time, POLL_MIN_MS floor) and, at the same time, through a fixed-interval poller at
 * POLL_MIN_MS against a twin simulator. Mean polls per task and p95 detection lag (simulator's
 * first terminal answer minus the moment the task ended).
 */
export async function pollingBench(redis: BenchRedis): Promise<BenchResult[]> {
  const baselineSim = createFoxapiSimulator(SIM);
  const { url: baselineUrl } = await baselineSim.listen(0);
  let baselineRun: Promise<void> | undefined;
  try {
    const run = await runPipeline(redis, {
      prefix: 'bench-polling',
      files: TASKS,
      batchSize: 1,
      workers: 1,
      sim: SIM,
      workerEnv: { POLL_MIN_MS: String(POLL_MIN_MS), POLL_MAX_MS: '60000', FOXAPI_MAX_RPS: '500', FOXAPI_MAX_INFLIGHT_TASKS: '1000' },
      timeoutMs: 120_000,
      onCreated: () => {
        baselineRun = runFixedIntervalPoller(baselineUrl, benchUrls(TASKS, 'bench-polling-fixed'), POLL_MIN_MS);
      },
    });
    await baselineRun;
    const subject = figures(run.sim.tasks);
    const baseline = figures(baselineSim.stats().tasks);
    const settings = {
      tasks: TASKS,
      pollMinMs: POLL_MIN_MS,
      taskDurationMs: '1,000–20,000 uniform',
      estimatedTimeNoise: '±50%',
      subject,
      fixedInterval: baseline,
    };
    return [
      result('polling-polls-per-task', subject.meanPolls, baseline.meanPolls, 'polls', { ratioAtMost: 0.4 }, settings),
      result('polling-p95-detection-lag', subject.p95LagMs, baseline.p95LagMs, 'ms', { ratioAtMost: 1 }, settings),
    ];
  } finally {
    await baselineRun?.catch(() => undefined);
    await baselineSim.close();
  }
}
