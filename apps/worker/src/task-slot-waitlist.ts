import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BatchJobPayload, KeyLayout } from '@batchscribe/shared';

/** A parked batch re-checks on its own after this long, should every wake-up be missed. */
export const PARK_SAFETY_MS = 30_000;

/**
 * Batches that found every foxapi task slot taken wait here instead of re-trying in a loop
 * (which would burn Redis round trips and worker time for nothing); each batch that ends wakes
 * the longest-parked one.
 */
export class TaskSlotWaitlist {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
    private readonly queue: Queue<BatchJobPayload>,
  ) {}

  /** Parked batches wake in priority order (ties: by job id, i.e. by job age). */
  async park(bullJobId: string, priority: number): Promise<void> {
    await this.redis.zadd(this.keys.parked, 'NX', priority, bullJobId);
  }

  /** Closes the race where the last slot freed between a failed claim and the park. */
  async wakeIfSlotFree(maxInflight: number): Promise<void> {
    if ((await this.redis.scard(this.keys.inflight)) < maxInflight) await this.wake(1);
  }

  async unpark(bullJobId: string): Promise<void> {
    await this.redis.zrem(this.keys.parked, bullJobId);
  }

  /** Moves up to `count` parked batches from delayed back to waiting. */
  async wake(count = 1): Promise<number> {
    const popped = await this.redis.zpopmin(this.keys.parked, count);
    let woken = 0;
    for (let i = 0; i < popped.length; i += 2) {
      const job = await Job.fromId(this.queue, popped[i]!);
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
