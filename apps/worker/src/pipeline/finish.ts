import type { BatchRecord, BatchState, BatchUsage, ErrorInfo, FileRecord } from '@batchscribe/shared';
import { mediaErrorOf } from './media-handoff.js';
import type { StepContext } from './step.js';

/**
 * Fails (or cancels) every file of a batch with one reason, from whatever open state it is in;
 * a file whose media could not go to foxapi (media-handoff.ts) fails with its own reason.
 * `cost`: what a task that failed upstream still reported as billed, and the batch fields keeping it.
 */
export async function finishAllFiles(
  ctx: StepContext,
  rec: BatchRecord,
  expected: BatchState[],
  next: 'failed' | 'cancelled',
  error: ErrorInfo | null,
  cost: { fields: Record<string, string>; usage: BatchUsage } | null = null,
): Promise<boolean> {
  const files = await ctx.deps.store.readFiles(rec.jobId, rec.files);
  const outcomes = files.map((record, i) => {
    const own = mediaErrorOf(rec, i);
    const updated: FileRecord = { ...record, s: own ? 'failed' : next };
    if (own ?? error) updated.e = (own ?? error)!;
    else delete updated.e;
    return { index: rec.files[i]!, record: updated };
  });
  const fields = { ...cost?.fields, ...(error ? { error_code: error.code } : {}) };
  const moved = await ctx.deps.store.finish(rec.jobId, rec.batch, expected, next, outcomes, fields, cost?.usage ?? null);
  if (moved) ctx.log.info({ outcome: next, code: error?.code }, next === 'failed' ? 'batch failed' : 'batch cancelled');
  return moved;
}
