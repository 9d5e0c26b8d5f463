const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

export interface PollBounds {
  pollMinMs: number;
  pollMaxMs: number;
}

/**
 * Share of foxapi's `estimated_time` at which the first look happens. Estimates can be high by
 * half (a 10 s task estimated at 15 s), and polling first at the full estimate would then notice
 * such a task 5 s late; looking at half of it still comes before almost every task ends, and
 * the `progress` that look returns tells when the task will really end.
 */
export const FIRST_LOOK_SHARE = 0.5;

/** First look at a task: half-way to when foxapi expects it done (docs/upstream.md, "Polling", tightened above). */
export function firstPollDelay(estimatedTimeS: number | null, b: PollBounds): number {
  return clamp(estimatedTimeS === null ? b.pollMinMs : estimatedTimeS * 1000 * FIRST_LOOK_SHARE, b.pollMinMs, b.pollMaxMs);
}

export interface PollState {
  submittedAt: number;
  estimatedTimeS: number | null;
  /** foxapi's `progress` (0–100) from the look just made; null when it sent none. */
  progress: number | null;
  now: number;
}

/**
 * Later looks. When foxapi reports progress, the task is assumed to advance at the pace it has
 * so far, and the next look is when that pace says it has surely ended: progress is a whole
 * percentage that never overstates, so `elapsed × 100 / progress` is the latest end it allows,
 * and one look then usually finds the task done rather than one POLL_MIN_MS too early.
 * Without progress: before the estimate, wait for it; once overdue, wait a quarter of the time
 * already overdue — a task late by a minute is unlikely to end in the next second, and a long
 * task then costs a logarithmic number of polls, not one every POLL_MIN_MS.
 */
export function nextPollDelay(p: PollState, b: PollBounds): number {
  const elapsed = p.now - p.submittedAt;
  if (p.progress !== null && p.progress >= 1 && p.progress < 100 && elapsed > 0) {
    const expectedEnd = (elapsed * 100) / p.progress;
    return clamp(expectedEnd - elapsed, b.pollMinMs, b.pollMaxMs);
  }
  const expected = (p.estimatedTimeS ?? 0) * 1000;
  if (elapsed < expected) return clamp(expected - elapsed, b.pollMinMs, b.pollMaxMs);
  return clamp((elapsed - expected) / 4, b.pollMinMs, b.pollMaxMs);
}
