import {
  isFoxapiError,
  isRetryable,
  type BatchRecord,
  type CollectedOutcome,
  type FileOutcome,
  type FileOutcomeRecord,
  type FileRecord,
  type TaskUsage,
} from '@batchscribe/shared';
import { backOffBatch, upstreamBackoffMs } from './backoff.js';
import { batchUsage, reportedUsage } from './batch-usage.js';
import { mediaErrorOf } from './media-handoff.js';
import { done, later, type StepContext, type StepResult } from './step.js';

/**
 * A result document that arrives but cannot be used (not JSON, too large, undecodable) is
 * fetched this many times in all, with growing delays (a transfer cut short looks the same),
 * then fails its file alone.
 */
export const UNUSABLE_RESULT_TRIES = 3;

/** What one attempt at one file's transcript came to. */
type Attempt =
  | { kind: 'decided'; outcome: CollectedOutcome }
  /** Worth trying again as it is (network, 5xx, 429): the result URLs live 24 h. */
  | { kind: 'transient'; message: string; retryAfterMs: number | null }
  /** The document came, but is not one we can read. */
  | { kind: 'unusable'; message: string };

interface Pending {
  index: number;
  outcome: FileOutcome;
}

/**
 * Downloads, prepares (parse, validate, normalize, compress: on the worker's thread pool) and
 * stores one transcript, under the worker's bound on documents in flight: a document is held
 * from its download until it is stored, then dropped. Only its outcome is returned.
 */
async function collectOne(ctx: StepContext, rec: BatchRecord, file: Pending): Promise<Attempt> {
  const { deps } = ctx;
  const { outcome, index } = file;
  if (outcome.kind === 'failed') return { kind: 'decided', outcome: { s: 'failed', e: { code: outcome.code, message: outcome.message } } };
  let raw: Buffer;
  if (outcome.kind === 'inline') {
    raw = Buffer.from(JSON.stringify(outcome.transcription));
  } else {
    try {
      raw = await deps.foxapi.download(outcome.url, { log: ctx.log, maxBytes: deps.config.resultMaxBytes });
      deps.crash('mid-download');
    } catch (err) {
      // Not a foxapi answer at all (a blob or thread failure): worth another pass like a transient one.
      if (!isFoxapiError(err) || isRetryable(err)) {
        return { kind: 'transient', message: (err as Error).message, retryAfterMs: isFoxapiError(err) ? err.retryAfterMs : null };
      }
      if (err.kind === 'protocol') return { kind: 'unusable', message: err.message };
      const message = `The transcript could not be downloaded (${err.status ?? err.kind}).`;
      return { kind: 'decided', outcome: { s: 'failed', e: { code: 'upstream_result_unavailable', message } } };
    }
  }
  let prepared;
  try {
    prepared = await deps.preparer.prepare(raw);
  } catch (err) {
    // The thread gave up on it (out of its heap): the same document will do the same again.
    return { kind: 'unusable', message: `The transcript could not be processed (${(err as Error).message.slice(0, 200)}).` };
  }
  // Stored even when unusable: `format=raw` then shows an operator what came.
  await deps.transcripts.put(rec.jobId, index, prepared);
  if (prepared.problem?.kind === 'not_json') return { kind: 'unusable', message: prepared.problem.message };
  if (prepared.problem) {
    // Well-formed JSON of the wrong shape will not change on a second download.
    return { kind: 'decided', outcome: { s: 'failed', e: { code: 'upstream_unparsable_result', message: prepared.problem.message } } };
  }
  // usage: the file's duration, counted when the batch is recorded
  return { kind: 'decided', outcome: prepared.durationMs === null ? { s: 'completed' } : { s: 'completed', d: prepared.durationMs } };
}

/**
 * Collects the transcripts of a completed task (its result URLs die after 24 h), then records
 * every file's outcome and the batch's end in one atomic step. Each transcript is stored before
 * anything records it, so a crash in between costs one download and an overwrite. A step that
 * cannot decide every file keeps what it decided in the batch record and comes back for the
 * rest only, so a bad document neither holds the good ones hostage nor makes them download again.
 */
export async function collectResults(
  ctx: StepContext,
  rec: BatchRecord,
  files: FileRecord[],
  outcomes: FileOutcome[],
  rawTask: unknown,
  taskUsage: TaskUsage | null = null,
): Promise<StepResult> {
  const { deps, log } = ctx;
  const decided = new Map<number, CollectedOutcome>(Object.entries(rec.collected).map(([i, o]) => [Number(i), o]));
  const tries: Record<number, number> = { ...rec.unusableTries };
  const pending: Pending[] = outcomes.map((outcome, i) => ({ index: rec.files[i]!, outcome })).filter((p) => !decided.has(p.index));

  const attempts = await Promise.all(pending.map((p) => deps.documents(() => collectOne(ctx, rec, p))));

  let transient: Extract<Attempt, { kind: 'transient' }> | null = null;
  let mostUnusableTries = 0;
  for (const [k, attempt] of attempts.entries()) {
    const { index } = pending[k]!;
    if (attempt.kind === 'decided') {
      decided.set(index, attempt.outcome);
    } else if (attempt.kind === 'transient') {
      transient ??= attempt;
    } else {
      const n = (tries[index] ?? 0) + 1;
      tries[index] = n;
      if (n >= UNUSABLE_RESULT_TRIES) {
        const message = `${attempt.message} (${n} downloads)`;
        decided.set(index, { s: 'failed', e: { code: 'upstream_unparsable_result', message } });
      } else {
        mostUnusableTries = Math.max(mostUnusableTries, n);
      }
    }
  }

  if (decided.size < rec.files.length) {
    if (!(await deps.store.saveCollectProgress(rec.jobId, rec.batch, Object.fromEntries(decided), tries))) return done;
    // Only a transient failure counts against the batch's back-off (a later good poll does not reset it).
    const transientDelay = transient ? await backOffBatch(ctx, rec, transient.retryAfterMs) : 0;
    const unusableDelay = mostUnusableTries > 0 ? upstreamBackoffMs(mostUnusableTries - 1, null, deps.config.backoff, deps.random) : 0;
    const delayMs = Math.max(transientDelay, unusableDelay);
    log.warn(
      { missing: rec.files.length - decided.size, delayMs, err: transient?.message },
      'some transcripts could not be collected; retrying those later',
    );
    return later(delayMs, 'download failed');
  }

  const failedOnce = [...decided.values()].some(
    (o) => o.e?.code === 'upstream_unparsable_result' || o.e?.code === 'upstream_missing_result',
  );
  if (failedOnce) await deps.transcripts.putTaskAnswer(rec.jobId, rec.batch, Buffer.from(JSON.stringify(rawTask)));

  const records: FileOutcomeRecord[] = rec.files.map((index, i) => {
    const outcome = decided.get(index)!;
    const record: FileRecord = { ...files[i]!, s: outcome.s, t: rec.taskId! };
    if (outcome.e) record.e = outcome.e;
    return { index, record };
  });
  deps.crash('after-transcripts-stored');
  // usage: the durations collected and what the task reported as billed, kept as reported in the batch record
  const usage = batchUsage(deps.clock(), decided.values(), taskUsage);
  await deps.store.finish(rec.jobId, rec.batch, ['submitted'], 'completed', records, reportedUsage(taskUsage), usage);
  deps.crash('after-batch-finished');
  const failed = records.filter((r) => r.record.s === 'failed').length;
  log.info({ completed: records.length - failed, failed, audioMs: usage.audioMs, usage: taskUsage?.reported }, 'batch completed');
  return done;
}

/**
 * Ends a batch whose task outlived TASK_TIMEOUT_MS: files already collected keep their outcome
 * (their transcripts are stored), every other file fails with `error`.
 */
export async function giveUpCollecting(ctx: StepContext, rec: BatchRecord, error: { code: string; message: string }): Promise<void> {
  const files = await ctx.deps.store.readFiles(rec.jobId, rec.files);
  const records: FileOutcomeRecord[] = rec.files.map((index, i) => {
    const own = mediaErrorOf(rec, i);
    const outcome: CollectedOutcome = rec.collected[index] ?? (own ? { s: 'failed', e: own } : { s: 'failed', e: error });
    const record: FileRecord = { ...files[i]!, s: outcome.s };
    if (rec.taskId) record.t = rec.taskId;
    if (outcome.e) record.e = outcome.e;
    else delete record.e;
    return { index, record };
  });
  const next = records.some((r) => r.record.s === 'completed') ? 'completed' : 'failed';
  // usage: the files collected before the timeout count; the task never reported what it billed
  const usage = batchUsage(ctx.deps.clock(), Object.values(rec.collected), null);
  const moved = await ctx.deps.store.finish(rec.jobId, rec.batch, ['submitted'], next, records, { error_code: error.code }, usage);
  if (moved) ctx.log.info({ code: error.code, kept: Object.keys(rec.collected).length }, 'batch timed out');
}
