import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import { FoxapiBudget, type KeyLayout } from '@batchscribe/shared';
import { WORKER_HEARTBEAT_FRESH_MS } from '../health.routes.js';

/** How many of the next jobs of a queue are looked at for the oldest one still waiting. */
const OLDEST_SAMPLE = 50;
const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children'] as const;

export interface QueueMetricsDeps {
  /** Every queue the dashboard shows: batches, and webhooks when that queue exists. */
  queues: readonly Queue[];
  redis: Redis;
  keys: KeyLayout;
}

/**
 * Cluster-wide gauges, read from Redis when Prometheus scrapes (so they cost nothing between
 * scrapes and are never stale). They describe shared state, so they are exported by the api
 * only; per-process counters live where the work happens. A failed read drops the series
 * instead of repeating the last value.
 */
export function registerQueueMetrics(registry: Registry, deps: QueueMetricsDeps): void {
  const budget = new FoxapiBudget(deps.redis, deps.keys);
  const gauge = (name: string, help: string, read: (g: Gauge<string>) => Promise<void>, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        try {
          this.reset();
          await read(this);
        } catch {
          this.reset();
        }
      },
    });

  gauge(
    'batchscribe_queue_jobs',
    'BullMQ jobs (one per batch step cycle) by queue and state.',
    async (g) => {
      for (const queue of deps.queues) {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) g.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
    ['queue', 'state'],
  );

  gauge(
    'batchscribe_queue_oldest_waiting_seconds',
    'How long the longest-waiting job ready to run has waited for a worker, by queue (0 when none waits).',
    async (g) => {
      const now = Date.now();
      for (const queue of deps.queues) g.set({ queue: queue.name }, (now - ((await oldestReadySince(queue)) ?? now)) / 1000);
    },
    ['queue'],
  );

  gauge(
    'batchscribe_foxapi_tasks_inflight',
    'foxapi tasks open (or being opened) across all workers; capped by FOXAPI_MAX_INFLIGHT_TASKS.',
    async (g) => {
      g.set(await budget.inflightCount());
    },
  );

  gauge('batchscribe_batches_parked', 'Batches waiting for a free foxapi task slot.', async (g) => {
    g.set(await budget.parkedCount());
  });

  gauge(
    'batchscribe_foxapi_backoff_remaining_seconds',
    'Time left before workers send foxapi requests again after a 429 (0 when not backing off).',
    async (g) => {
      g.set((await budget.rateBackoffRemainingMs()) / 1000);
    },
  );

  gauge('batchscribe_foxapi_submits_paused', '1 while submits are paused (foxapi balance or key problem), else 0.', async (g) => {
    g.set((await budget.submitPause()) ? 1 : 0);
  });

  // Alive by the same heartbeat age /readyz asks for.
  gauge(
    'batchscribe_workers_alive',
    `Worker processes that sent a heartbeat in the last ${WORKER_HEARTBEAT_FRESH_MS / 1000} s.`,
    async (g) => {
      g.set(await budget.freshWorkers(Date.now() - WORKER_HEARTBEAT_FRESH_MS));
    },
  );
}

/**
 * When the longest-waiting ready job became ready: BullMQ keeps a job's creation time, and a
 * job that already ran a step and was delayed became ready `delay` ms after that step
 * (processedOn) — so a batch on its tenth poll is not reported as hours old.
 */
async function oldestReadySince(queue: Queue): Promise<number | null> {
  const jobs = await queue.getJobs(['waiting', 'prioritized'], 0, OLDEST_SAMPLE - 1, true);
  let oldest: number | null = null;
  for (const job of jobs) {
    if (!job) continue;
    const since = (job.processedOn ?? job.timestamp) + (job.delay ?? 0);
    if (oldest === null || since < oldest) oldest = since;
  }
  return oldest;
}
