const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

export interface PollBounds {
  pollMinMs: number;
  pollMaxMs: number;
}

/** First look at a task about when foxapi expects it done (decision 5). */
export function firstPollDelay(estimatedTimeS: number | null, b: PollBounds): number {
  return clamp(estimatedTimeS === null ? b.pollMinMs : estimatedTimeS * 1000, b.pollMinMs, b.pollMaxMs);
}

/**
 * Later looks: before the estimate, wait for it; once overdue, wait a quarter of the time
 * already overdue — a task late by a minute is unlikely to end in the next second, and a long
 * task then costs a logarithmic number of polls, not one every POLL_MIN_MS.
 */
export function nextPollDelay(p: { submittedAt: number; estimatedTimeS: number | null; now: number }, b: PollBounds): number {
  const elapsed = p.now - p.submittedAt;
  const expected = (p.estimatedTimeS ?? 0) * 1000;
  if (elapsed < expected) return clamp(expected - elapsed, b.pollMinMs, b.pollMaxMs);
  return clamp((elapsed - expected) / 4, b.pollMinMs, b.pollMaxMs);
}
