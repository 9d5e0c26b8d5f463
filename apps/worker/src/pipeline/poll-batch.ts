import { interpretTask, isFoxapiError, type BatchRecord, type FileOutcome } from '@batchscribe/shared';
import { backOffBatch, resetBackoff } from './backoff.js';
import { batchUsage, reportedUsage } from './batch-usage.js';
import { collectResults, giveUpCollecting } from './collect-results.js';
import { finishAllFiles } from './finish.js';
import { submittedInputs } from './media-handoff.js';
import { nextPollDelay } from './poll-timing.js';
import { done, later, type StepContext, type StepResult } from './step.js';

/** One look at an open task; decides when to look again or collects what it produced. */
export async function pollBatch(ctx: StepContext, rec: BatchRecord): Promise<StepResult> {
  const { deps, log } = ctx;
  const taskId = rec.taskId!;
  const submittedAt = rec.submittedAt ?? deps.clock();
  if (deps.clock() - submittedAt > deps.config.taskTimeoutMs) {
    await giveUpCollecting(ctx, rec, {
      code: 'upstream_timeout',
      message: `foxapi task ${taskId} did not finish within ${Math.round(deps.config.taskTimeoutMs / 1000)} s.`,
    });
    return done;
  }

  const wait = await deps.limiter.acquire();
  if (wait > 0) return later(wait, 'request budget');
  let snapshot;
  try {
    snapshot = await deps.foxapi.getTask(taskId, { log });
  } catch (err) {
    if (!isFoxapiError(err)) throw err;
    if (err.kind === 'not_found') {
      await finishAllFiles(ctx, rec, ['submitted'], 'failed', {
        code: 'upstream_task_lost',
        message: `foxapi no longer knows task ${taskId}.`,
      });
      return done;
    }
    // Short of a lost task, a poll is tried again whatever failed, transient (isRetryable) or not:
    // the task is paid for and only foxapi holds its result, so a rejected key or an unreadable
    // answer waits for an operator's fix rather than failing the files.
    const delayMs = await backOffBatch(ctx, rec, err.retryAfterMs);
    log.warn({ status: err.status, kind: err.kind, delayMs, err: err.message }, 'poll failed; backing off');
    if (err.kind === 'rate_limited') await deps.limiter.backOff(delayMs);
    return later(delayMs, `poll failed: ${err.kind}`);
  }
  deps.crash('after-poll-response');
  await deps.store.incrementPolls(rec.jobId, rec.batch);

  const files = await deps.store.readFiles(rec.jobId, rec.files);
  // What the submit sent: URL inputs as given, files from uploads by their recorded media URL;
  // a file that never went (its media could not) is left out, and fails with its own reason.
  const inputs = submittedInputs(files, rec.media);
  const outcome = interpretTask(
    snapshot,
    inputs.flatMap((i) => ('url' in i ? [i.url] : [])),
  );
  switch (outcome.state) {
    case 'running': {
      // The poll did what it was for. A completed task's poll did not: its back-off belongs to
      // the collecting, which may be what keeps failing.
      await resetBackoff(ctx, rec);
      const delayMs = nextPollDelay(
        { submittedAt, estimatedTimeS: rec.estimatedTimeS, progress: outcome.progress, now: deps.clock() },
        deps.config,
      );
      log.debug({ status: snapshot.status, progress: outcome.progress, delayMs }, 'task still running');
      return later(delayMs, 'task running');
    }
    case 'failed':
      // A failed task may still report what it billed: kept, as foxapi reported it.
      await finishAllFiles(
        ctx,
        rec,
        ['submitted'],
        'failed',
        { code: outcome.code, message: outcome.message },
        {
          fields: reportedUsage(snapshot.usage),
          usage: batchUsage(deps.clock(), [], snapshot.usage),
        },
      );
      return done;
    case 'cancelled':
      await finishAllFiles(ctx, rec, ['submitted'], 'cancelled', null);
      return done;
    case 'completed': {
      let sent = 0;
      const perFile = inputs.map((i): FileOutcome =>
        'url' in i ? outcome.files[sent++]! : { kind: 'failed', code: i.error.code, message: i.error.message },
      );
      return collectResults(ctx, rec, files, perFile, snapshot.raw, snapshot.usage);
    }
  }
}
