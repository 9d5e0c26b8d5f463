import { backoffDelayMs, type BackoffBounds, type BatchRecord } from '@batchscribe/shared';
import type { StepContext } from './step.js';

export type { BackoffBounds };

/**
 * docs/upstream.md, "Reacting to errors": honour Retry-After when sent, else exponential with jitter from
 * `baseMs` (default 5 s) up to `capMs` (default 60 s).
 */

export const DEFAULT_BACKOFF: BackoffBounds = { baseMs: 5_000, capMs: 60_000 };

/** `attempt` counts from 0 for the first failure. */
export function upstreamBackoffMs(
  attempt: number,
  retryAfterMs: number | null,
  bounds: BackoffBounds = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null && retryAfterMs > 0) return Math.min(retryAfterMs, 10 * bounds.capMs);
  return backoffDelayMs(attempt, bounds, random);
}

/** Counts one more consecutive upstream failure of this batch and returns how long to wait. */
export async function backOffBatch(ctx: StepContext, rec: BatchRecord, retryAfterMs: number | null): Promise<number> {
  const { deps } = ctx;
  const failures = await deps.store.countBackoff(rec.jobId, rec.batch);
  return upstreamBackoffMs(failures - 1, retryAfterMs, deps.config.backoff, deps.random);
}

/** A request went through: the next failure starts the back-off from the beginning again. */
export async function resetBackoff(ctx: StepContext, rec: BatchRecord): Promise<void> {
  await ctx.deps.store.clearBackoff(rec.jobId, rec.batch);
}
