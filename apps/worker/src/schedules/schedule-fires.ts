import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { QUEUES, type FireScheduleDeps, type KeyLayout, type ScheduleFirePayload } from '@batchscribe/shared';
import { createScheduleProcessor } from './schedule.processor.js';

/**
 * The worker's side of schedules: consumes the fires the BullMQ job schedulers enqueue. The
 * schedulers themselves are registered only by the api, when a schedule is created. `fire` is
 * built once by the composition root (createFireScheduleDeps).
 */
export function startScheduleFires(
  deps: { fire: FireScheduleDeps; redis: Redis; keys: KeyLayout; logger: Logger },
  opts: { concurrency?: number } = {},
): { close(): Promise<void> } {
  const { fire: fireDeps, redis, keys, logger } = deps;
  const queue = new Queue<ScheduleFirePayload>(QUEUES.schedules, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.schedules, err }, 'queue error'));
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
