import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import {
  ManifestFetcher,
  QUEUES,
  ScheduleStore,
  type BatchJobPayload,
  type IntakeRateLimit,
  type KeyLayout,
  type OutboundPolicy,
  type ScheduleFirePayload,
} from '@batchscribe/shared';
import { createScheduleProcessor } from './schedule.processor.js';

export interface ScheduleFireOptions {
  batchSize: number;
  maxFiles: number;
  manifestMaxBytes: number;
  manifestTimeoutMs: number;
  concurrency?: number;
}

/**
 * The worker's side of schedules: consumes the fires the BullMQ job schedulers enqueue. The
 * schedulers themselves are registered only by the api, when a schedule is created.
 */
export function startScheduleFires(
  deps: {
    redis: Redis;
    keys: KeyLayout;
    logger: Logger;
    batches: Queue<BatchJobPayload>;
    /** The outbound policy and the checking Agent manifests are fetched through. */
    outbound: { policy: OutboundPolicy; dispatcher: Dispatcher };
    /** Every fire counts against its tenant's intake rate limit. */
    intakeLimit: IntakeRateLimit;
  },
  opts: ScheduleFireOptions,
): { close(): Promise<void> } {
  const { redis, keys, logger } = deps;
  const queue = new Queue<ScheduleFirePayload>(QUEUES.schedules, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.schedules, err }, 'queue error'));
  const fireDeps = {
    redis,
    keys,
    schedules: new ScheduleStore(redis, keys),
    jobs: { redis, keys, queue: deps.batches, batchSize: opts.batchSize },
    manifests: new ManifestFetcher({
      maxBytes: opts.manifestMaxBytes,
      timeoutMs: opts.manifestTimeoutMs,
      maxFiles: opts.maxFiles,
      dispatcher: deps.outbound.dispatcher,
      policy: deps.outbound.policy,
    }),
    intakeLimit: deps.intakeLimit,
    // A processor silent for longer than a whole manifest fetch (plus margin) has died.
    claimStaleMs: opts.manifestTimeoutMs + 60_000,
  };
  const worker = new Worker<ScheduleFirePayload>(QUEUES.schedules, createScheduleProcessor(fireDeps, queue, logger), {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: opts.concurrency ?? 5,
  });
  worker.on('error', (err) => logger.error({ queue: QUEUES.schedules, err }, 'worker error'));
  worker.on('failed', (job, err) =>
    logger.error(
      { queue: QUEUES.schedules, bullJobId: job?.id, scheduleId: job?.data.scheduleId, attempt: job?.attemptsMade, err },
      'schedule fire failed',
    ),
  );
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
