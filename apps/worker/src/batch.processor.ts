import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';
import {
  FAN_OUT_JOB,
  PRIORITY,
  batchJobPayload,
  fanOutBatches,
  releaseEndedJobUploads,
  type BatchJobPayload,
  type BatchRecord,
} from '@batchscribe/shared';
import { PARK_SAFETY_MS, type TaskSlotWaitlist } from './task-slot-waitlist.js';
import { pollBatch } from './pipeline/poll-batch.js';
import { done, type PipelineDeps, type StepContext, type StepResult } from './pipeline/step.js';
import { FIRST_POLL, recoverSubmitting, submitBatch } from './pipeline/submit-batch.js';

/** Runs the step the batch's intent record calls for; a replay finds the state moved on. */
export async function runBatchStep(ctx: StepContext, rec: BatchRecord): Promise<StepResult> {
  switch (rec.state) {
    case 'queued':
      return submitBatch(ctx, rec);
    case 'submitting':
      return recoverSubmitting(ctx, rec);
    case 'submitted':
      return pollBatch(ctx, rec);
    case 'completed':
    case 'failed':
    case 'cancelled':
      return done;
  }
}

/**
 * The BullMQ processor: parse, bind a logger, run one step, and turn "later" into a delayed
 * job so a batch waiting on foxapi holds no worker slot (BullMQ's step-job pattern). A large
 * intake's fan-out job (FAN_OUT_JOB) enqueues that job's batches instead.
 */
export function createBatchProcessor(deps: PipelineDeps, logger: Logger, waitlist: TaskSlotWaitlist, queue: Queue<BatchJobPayload>) {
  return async (job: Job<BatchJobPayload>, token?: string): Promise<string> => {
    const { jobId, batch } = batchJobPayload.parse(job.data);
    if (job.name === FAN_OUT_JOB) {
      const batches = await fanOutBatches({ redis: deps.redis, keys: deps.keys, queue }, jobId);
      logger.info({ jobId, batches }, batches === null ? 'fan-out found no job' : 'intake batches enqueued');
      return 'fanned-out';
    }
    let log = logger.child({ jobId, batch });
    // A batch woken by its safety timer (or already past the submit) is no longer parked.
    await waitlist.unpark(job.id!);
    for (let hops = 0; hops < 3; hops++) {
      const rec = await deps.store.get(jobId, batch);
      if (!rec) return 'gone';
      if (rec.taskId) log = log.child({ taskId: rec.taskId });
      const result = await runBatchStep({ deps, log }, rec);
      if (result.kind === 'done') {
        // The batch may have freed a foxapi task slot: let a parked batch have it.
        await waitlist.wake(1);
        // When its end ended the job, the media of the job's uploads is no longer needed. Every
        // step that finds its batch ended gets here, so one that died before this line is
        // made good by its replay, and a cancelled batch's step does it for a cancelled job.
        const released = await releaseEndedJobUploads(deps.redis, deps.keys, deps.media.uploads, jobId, { now: deps.clock() });
        if (released > 0) log.info({ uploads: released }, 'job ended: its uploads released');
        return 'done';
      }
      if (result.kind === 'parked') {
        await job.moveToDelayed(Date.now() + PARK_SAFETY_MS, token);
        await waitlist.park(job.id!, job.priority);
        await waitlist.wakeIfSlotFree(deps.config.maxInflightTasks);
        throw new DelayedError();
      }
      if (result.reason === FIRST_POLL && job.priority !== PRIORITY.open) {
        // Submitted: from now on its steps are polls, which go first (see PRIORITY).
        await job.changePriority({ priority: PRIORITY.open });
      }
      if (result.delayMs > 0) {
        log.debug({ delayMs: result.delayMs, reason: result.reason }, 'batch waits');
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      }
      // delay 0: the state moved under us (another step ran); look again at once.
    }
    await job.moveToDelayed(Date.now() + 1_000, token);
    throw new DelayedError();
  };
}
