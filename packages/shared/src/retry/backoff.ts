export interface BackoffBounds {
  /** The first retry's ceiling. */
  baseMs: number;
  /** No ceiling grows past this. */
  capMs: number;
}

/**
 * The one back-off of the service: exponential with "equal jitter". Retry number `attempt`
 * (0 for the first) waits between half and all of min(capMs, baseMs·2^attempt): never less than
 * half, so a storm of failures that happened together cannot re-form at once, and spread over
 * the other half so they do not all come back in the same instant.
 */
export function backoffDelayMs(attempt: number, bounds: BackoffBounds, random: () => number = Math.random): number {
  const ceiling = Math.min(bounds.capMs, bounds.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
