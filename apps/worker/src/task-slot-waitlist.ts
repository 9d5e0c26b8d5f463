import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { FoxapiBudget, type BatchJobPayload, type KeyLayout } from '@batchscribe/shared';

/** A parked batch re-checks on its own after this long, should every wake-up be missed. */
export const PARK_SAFETY_MS = 30_000;

/**
 * Batches that found every foxapi task slot taken wait here instead of re-trying in a loop
 * (which would burn Redis round trips and worker time for nothing); each batch that ends wakes
 * the longest-parked one.
 */
export class TaskSlotWaitlist {
  private readonly budget: FoxapiBudget;

  constructor(
    redis: Redis,
    keys: KeyLayout,
    private readonly queue: Queue<BatchJobPayload>,
  ) {
    this.budget = new FoxapiBudget(redis, keys);
  }

  /** Parked batches wake in priority order (ties: by job id, i.e. by job age). */
  async park(bullJobId: string, priority: number): Promise<void> {
    await this.budget.park(bullJobId, priority);
  }

  /** Closes the race where the last slot freed between a failed claim and the park. */
  async wakeIfSlotFree(maxInflight: number): Promise<void> {
    if ((await this.budget.inflightCount()) < maxInflight) await this.wake(1);
  }

  async unpark(bullJobId: string): Promise<void> {
    await this.budget.unpark(bullJobId);
  }

  /** Moves up to `count` parked batches from delayed back to waiting. */
  async wake(count = 1): Promise<number> {
    const popped = await this.budget.popParked(count);
    let woken = 0;
    for (const id of popped) {
      const job = await Job.fromId(this.queue, id);
      // Not delayed any more (already running, or gone): nothing to wake.
      if (job && (await job.isDelayed())) {
        await job.promote().then(
          () => woken++,
          () => undefined,
        );
      }
    }
    return woken;
  }
}
