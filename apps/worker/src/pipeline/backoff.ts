/**
 * foxapi.md decision 4: honour Retry-After when sent, else exponential with full jitter from
 * 5 s up to 60 s.
 */
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_CAP_MS = 60_000;

export function upstreamBackoffMs(attempt: number, retryAfterMs: number | null, random: () => number = Math.random): number {
  if (retryAfterMs !== null && retryAfterMs > 0) return Math.min(retryAfterMs, 10 * BACKOFF_CAP_MS);
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  // "Equal jitter": never less than half the ceiling, so a storm cannot re-form at once.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
