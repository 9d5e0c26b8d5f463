import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';

/**
 * The shared budget of foxapi and the workers that spend it: the task slots held (inflight),
 * the batches waiting for one (parked), a pause of all submits, the workers' heartbeats, and
 * the lock that lets one worker at a time sweep the blob store. The request budget is
 * GlobalRateLimiter (rate-limiter.ts); the workers' view of foxapi is UpstreamHealthStore.
 */
export class FoxapiBudget {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  /** Task slots held now. */
  inflightCount(): Promise<number> {
    return this.redis.scard(this.keys.inflight);
  }

  /** Parks a batch (by its BullMQ id) to be woken in priority order (ties: by id, i.e. job age); a batch parked already keeps its place. */
  async park(bullJobId: string, priority: number): Promise<void> {
    await this.redis.zadd(this.keys.parked, 'NX', priority, bullJobId);
  }

  async unpark(bullJobId: string): Promise<void> {
    await this.redis.zrem(this.keys.parked, bullJobId);
  }

  /** Takes up to `count` parked batches off the wait list, first in line first. */
  async popParked(count: number): Promise<string[]> {
    const popped = await this.redis.zpopmin(this.keys.parked, count);
    return popped.filter((_, i) => i % 2 === 0);
  }

  parkedCount(): Promise<number> {
    return this.redis.zcard(this.keys.parked);
  }

  /** Holds every submit for `ms`, with the reason shown in waiting_reason. */
  async pauseSubmits(reason: string, ms: number): Promise<void> {
    await this.redis.set(this.keys.submitPause, reason, 'PX', ms);
  }

  /** The submit pause in force, if any, and how long it has left. */
  async submitPause(): Promise<{ reason: string; remainingMs: number } | null> {
    const [remainingMs, reason] = await Promise.all([this.redis.pttl(this.keys.submitPause), this.redis.get(this.keys.submitPause)]);
    return remainingMs > 0 && reason !== null ? { reason, remainingMs } : null;
  }

  /** How long every worker still holds its foxapi requests after a 429, ms (0 when none). */
  async rateBackoffRemainingMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys.rateBackoff));
  }

  /** A worker says it is alive; workers silent for `deadAfterMs` are dropped. */
  async heartbeat(workerId: string, now: number, deadAfterMs: number): Promise<void> {
    await this.redis.zadd(this.keys.workers, now, workerId);
    await this.redis.zremrangebyscore(this.keys.workers, '-inf', now - deadAfterMs);
  }

  async removeWorker(workerId: string): Promise<void> {
    await this.redis.zrem(this.keys.workers, workerId);
  }

  /** Workers whose heartbeat is at `since` or later. */
  freshWorkers(since: number): Promise<number> {
    return this.redis.zcount(this.keys.workers, since, '+inf');
  }

  /** Takes the blob-sweep lock for `ms` if no worker holds it. */
  async lockBlobSweep(holder: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.blobSweepLock, holder, 'PX', ms, 'NX')) === 'OK';
  }
}
