import type { BatchUsage, CollectedOutcome, TaskUsage } from '@batchscribe/shared';

/** What a batch ending now cost: its completed files' durations, and the task's billed seconds if it reported them. */
export function batchUsage(at: number, outcomes: Iterable<CollectedOutcome>, taskUsage: TaskUsage | null): BatchUsage {
  let audioMs = 0;
  for (const o of outcomes) if (o.s === 'completed' && o.d !== undefined) audioMs += o.d;
  const billed = taskUsage?.billedSeconds ?? null;
  return { at, audioMs, billedMs: billed === null ? null : Math.round(billed * 1000), reused: 0 };
}

/** Largest `usage` object kept in a batch record, as JSON: foxapi's is a few fields; anything larger is not kept. */
const REPORTED_USAGE_MAX_CHARS = 2_048;

/** The batch field keeping the task's `usage` as foxapi reported it (operators read it there), when it reported one. */
export function reportedUsage(taskUsage: TaskUsage | null): Record<string, string> {
  if (!taskUsage) return {};
  const json = JSON.stringify(taskUsage.reported);
  return json.length <= REPORTED_USAGE_MAX_CHARS ? { usage: json } : {};
}
