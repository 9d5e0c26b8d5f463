import { backoffDelayMs } from '@batchscribe/shared';

/** No single wait is longer than this, however many attempts came before. */
export const WEBHOOK_MAX_DELAY_MS = 6 * 3600_000;

/**
 * Exponential back-off with "equal jitter": the n-th retry waits between half and all of
 * base·2^(n-1), capped at 6 h. With the defaults (30 s base, 12 attempts) the last attempt
 * comes roughly 7 to 15 hours after the first. Jitter keeps many webhooks that failed together
 * (a receiver outage) from all coming back in the same second.
 */
export function webhookBackoff(baseMs: number, random: () => number = Math.random): (attemptsMade: number) => number {
  return (attemptsMade) => backoffDelayMs(attemptsMade - 1, { baseMs, capMs: WEBHOOK_MAX_DELAY_MS }, random);
}
