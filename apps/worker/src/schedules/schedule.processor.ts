import type { Job as BullJob, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { fireSchedule, scheduleFirePayload, type FireOutcome, type FireScheduleDeps, type ScheduleFirePayload } from '@batchscribe/shared';

/**
 * When a fire was due. BullMQ names each scheduler job `repeat:<schedulerId>:<fire ms>`, and
 * that id (unlike the job's timestamp, which is when it was enqueued) is the same for every
 * processing of one fire, so it keys the fire's idempotency.
 */
export function fireTimeOf(bull: Pick<BullJob, 'id' | 'timestamp' | 'opts'>): number {
  const fromId = /:(\d{10,})$/.exec(bull.id ?? '')?.[1];
  if (fromId) return Number(fromId);
  const prev = (bull.opts as { prevMillis?: number }).prevMillis;
  return typeof prev === 'number' ? prev : bull.timestamp;
}

/** The processor of the schedules queue: one fire → at most one job. */
export function createScheduleProcessor(deps: FireScheduleDeps, schedulesQueue: Pick<Queue, 'removeJobScheduler'>, logger: Logger) {
  return async (bull: BullJob<ScheduleFirePayload>): Promise<FireOutcome['kind']> => {
    const { scheduleId } = scheduleFirePayload.parse(bull.data);
    const firedAt = fireTimeOf(bull);
    const log = logger.child({ scheduleId, fireAt: new Date(firedAt).toISOString() });
    const outcome = await fireSchedule(deps, scheduleId, { id: String(firedAt), at: new Date(firedAt) });
    switch (outcome.kind) {
      case 'created':
        log.info({ jobId: outcome.job.id, files: outcome.job.counts.total }, 'schedule fired a job');
        break;
      case 'replayed':
        log.info({ jobId: outcome.jobId }, 'schedule fire already made its job');
        break;
      case 'failed':
        log.warn({ code: outcome.code, err: outcome.error, detail: outcome.detail }, 'schedule fire made no job');
        break;
      case 'gone':
        // Deleted between the scheduler enqueueing this fire and now: make sure it fires no more.
        await schedulesQueue.removeJobScheduler(scheduleId);
        log.info('schedule is gone; its scheduler was removed');
        break;
    }
    return outcome.kind;
  };
}
