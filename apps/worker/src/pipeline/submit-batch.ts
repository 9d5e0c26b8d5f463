import { randomUUID } from 'node:crypto';
import {
  FoxapiBudget,
  isAmbiguousSubmitFailure,
  isRetryable,
  readJobHash,
  setJobError,
  isFoxapiError,
  upstreamOptionsFromHash,
  mediaFields,
  type BatchRecord,
  type FileRecord,
  type FoxapiError,
  type MediaEntry,
  type Model,
} from '@batchscribe/shared';
import { backOffBatch } from './backoff.js';
import { budgetGate } from './budget-gate.js';
import { reportedUsage } from './batch-usage.js';
import { finishAllFiles } from './finish.js';
import { mediaErrorOf, prepareMedia, presignMedia, submittedInputs } from './media-handoff.js';
import { firstPollDelay } from './poll-timing.js';
import { reuseBeforeSubmit } from './reuse-files.js';
import { done, later, parked, type StepContext, type StepResult } from './step.js';

/** The reason a step gives when the batch has just been submitted. */
export const FIRST_POLL = 'first poll';

/** A job that stopped (cancelled, or failed by a job-level error): its queued batch ends here. */
async function stopped(ctx: StepContext, rec: BatchRecord, job: Record<string, string>): Promise<StepResult | null> {
  if (job.status === 'cancelling' || job.status === 'cancelled') {
    await finishAllFiles(ctx, rec, ['queued'], 'cancelled', null);
    return done;
  }
  if (job.error) {
    await finishAllFiles(ctx, rec, ['queued'], 'failed', JSON.parse(job.error) as { code: string; message: string });
    return done;
  }
  return null;
}

/**
 * Why the submit step may not call foxapi now, if anything: a paused upstream, or a tenant's
 * budget used up. Files completed from earlier transcripts need neither, so reuse runs before.
 */
async function gate(ctx: StepContext, job: Record<string, string>): Promise<StepResult | null> {
  const pause = await new FoxapiBudget(ctx.deps.redis, ctx.deps.keys).submitPause();
  if (pause) {
    // Look again soon rather than at the pause's end, so an operator's resume takes effect
    // within seconds; jitter keeps the held batches from all waking in the same instant.
    const recheck = Math.min(pause.remainingMs, ctx.deps.config.pauseRecheckMs) + (ctx.deps.random ?? Math.random)() * 500;
    return later(recheck, `submits paused: ${pause.reason}`);
  }
  return budgetGate(ctx, job.tenant ?? '');
}

/**
 * queued → submitting → submitted. The claim is taken atomically just before the request and
 * the task id stored atomically right after, so a second processor can never send this batch
 * again, and the only window left is a crash during the request itself (see recoverSubmitting).
 */
export async function submitBatch(ctx: StepContext, rec: BatchRecord): Promise<StepResult> {
  const { deps, log } = ctx;
  const job = await readJobHash(deps.redis, deps.keys, rec.jobId);
  if (!job.id) return done; // deleted
  const stop = await stopped(ctx, rec, job);
  if (stop) return stop;

  let files = await deps.store.readFiles(rec.jobId, rec.files);
  if (job.reuse === '1') {
    const reuse = await reuseBeforeSubmit(ctx, rec, job, files);
    if (reuse.kind === 'step') return reuse.result;
    rec = reuse.rec;
    files = reuse.files;
  }
  const blocked = await gate(ctx, job);
  if (blocked) return blocked;

  // A task slot first, the request budget second: a batch that would only find every slot taken
  // parks without booking a request, so hundreds of parked batches waking to look cost polls
  // (which free slots) nothing. The claim below still decides; losing the slot in between
  // costs one booked request, now and then.
  if (!(await deps.store.hasFreeSlot(rec.jobId, rec.batch, deps.config.maxInflightTasks))) return parked;
  const withUploads = files.some((f) => f.up !== undefined);
  if (withUploads) {
    // Files from uploads: how each goes to foxapi is decided and recorded before the claim (media-handoff.ts).
    const prepared = await prepareMedia(ctx, rec, files);
    if (prepared.kind === 'step') return prepared.result;
    if (prepared.kind === 'auth') return failForAuth(ctx, rec, ['queued']);
    if (files.every((f, k) => f.up !== undefined && mediaErrorOf({ ...rec, media: prepared.media }, k) !== null)) {
      // Nothing left to send: the batch ends here, each file with its own reason.
      await finishAllFiles(ctx, { ...rec, media: prepared.media }, ['queued'], 'failed', null);
      return done;
    }
  }
  // Book the request before claiming, so a claim is never held while waiting for budget.
  const wait = await deps.limiter.acquire();
  if (wait > 0) return later(wait, 'request budget');
  deps.crash('before-claim');
  await deps.testHook?.('before-claim', rec);
  const token = randomUUID();
  const claim = await deps.store.claimSubmit(rec.jobId, rec.batch, token, deps.config.submitLeaseMs, deps.config.maxInflightTasks);
  if (claim === 'full') return parked;
  if (claim === 'unconfirmed') {
    // Paying on a claim Redis may still forget could pay twice: release it and try later.
    const delayMs = await backOffBatch(ctx, rec, null);
    log.warn({ delayMs }, 'the claim was not made durable in time (REDIS_DURABILITY); nothing submitted, trying again later');
    return later(delayMs, 'claim not durable');
  }
  if (claim !== 'claimed') return later(0, `batch is already ${claim}`);

  let media: Record<number, MediaEntry> = {};
  let recordMedia: Record<number, MediaEntry> = {};
  if (withUploads) {
    const fixed = await mediaAfterClaim(ctx, rec, files, token);
    if (fixed === null) return later(0, 'media changed under the claim');
    ({ media, recordMedia } = fixed);
  }
  const urls = submittedInputs(files, media).flatMap((i) => ('url' in i ? [i.url] : []));

  let taskId: string;
  let estimatedTimeS: number | null;
  let submitUsage: Record<string, string>;
  try {
    const task = await deps.foxapi.submit(
      { model: (job.model ?? 'paraformer-v2') as Model, file_urls: urls, ...upstreamOptionsFromHash(job) },
      { log },
    );
    taskId = task.taskId;
    estimatedTimeS = task.estimatedTimeS;
    submitUsage = reportedUsage(task.usage);
  } catch (err) {
    return onSubmitError(ctx, rec, token, err);
  }
  deps.crash('after-submit-response');
  await deps.testHook?.('after-submit-response', rec);

  const { outcome, durable } = await deps.store.recordSubmitted(
    rec.jobId,
    rec.batch,
    token,
    {
      task_id: taskId,
      submitted_at: deps.clock(),
      estimated_time_s: estimatedTimeS ?? '',
      polls: 0,
      backoffs: 0,
      ...submitUsage,
      // presign: the URLs sent, kept with the task id so its results map back to the files.
      ...mediaFields(recordMedia),
    },
    files.map((record, i) => ({ index: rec.files[i]!, record: { ...record, s: 'submitted', t: taskId } })),
  );
  if (outcome === 'lost') {
    // Another attempt owns the batch now (or it moved on); foxapi did create this task.
    log.error({ taskId }, 'submit returned after another attempt took the batch over: task is orphaned');
    return done;
  }
  if (outcome === 'recovered') {
    log.warn(
      { taskId },
      'the claim was gone (Redis lost its write, or it was released after its lease) but the batch was still queued: task id recorded, nothing resubmitted',
    );
  }
  if (!durable) log.warn({ taskId }, 'task id stored but not confirmed durable in time (REDIS_DURABILITY)');
  deps.crash('after-submit-recorded');
  log.info({ taskId, estimatedTimeS, files: files.length, sent: urls.length }, 'batch submitted');
  return later(firstPollDelay(estimatedTimeS, deps.config), FIRST_POLL);
}

async function onSubmitError(ctx: StepContext, rec: BatchRecord, token: string, err: unknown): Promise<StepResult> {
  const { deps, log } = ctx;
  const release = () => deps.store.releaseClaim(rec.jobId, rec.batch, token);
  if (!isFoxapiError(err)) {
    await release();
    throw err;
  }
  const e: FoxapiError = err;
  const logged = { status: e.status, kind: e.kind, code: e.upstreamCode, err: e.message };
  if (isAmbiguousSubmitFailure(e)) return onAmbiguousSubmit(ctx, rec, token, e.message, e.retryAfterMs);
  if (isRetryable(e)) {
    // Transient and certainly not acted on (a 429, or refused before sending): safe to send again later.
    await release();
    const delayMs = await backOffBatch(ctx, rec, e.retryAfterMs);
    if (e.kind !== 'rate_limited') return later(delayMs, `submit not sent: ${e.kind}`);
    await deps.limiter.backOff(delayMs);
    log.warn({ ...logged, delayMs }, 'foxapi rate-limited the submit; all workers back off');
    return later(delayMs, 'rate limited');
  }
  switch (e.kind) {
    case 'quota': {
      await release();
      await new FoxapiBudget(deps.redis, deps.keys).pauseSubmits('upstream_insufficient_quota', deps.config.pauseMs);
      log.error(logged, 'foxapi balance is insufficient: submits paused; nothing is failed');
      return later(deps.config.pauseRecheckMs, 'upstream_insufficient_quota');
    }
    case 'auth':
      log.error(logged, 'foxapi rejected the API key: job failed, submits paused');
      return failForAuth(ctx, rec, ['submitting']);
    case 'invalid':
    case 'not_found': {
      const error = { code: e.upstreamCode ?? 'upstream_invalid_request', message: e.message };
      await finishAllFiles(ctx, rec, ['submitting'], 'failed', error);
      return done;
    }
    default:
      // Every kind is either ambiguous, transient or one of the refusals above.
      await release();
      throw e;
  }
}

/** A 401 (to the submit, or to a media handoff before it): the job fails with upstream_auth and submits pause. */
async function failForAuth(ctx: StepContext, rec: BatchRecord, expected: Array<'queued' | 'submitting'>): Promise<StepResult> {
  const { deps } = ctx;
  const error = { code: 'upstream_auth', message: 'foxapi rejected the API key (401); check FOXAPI_API_KEY.' };
  await setJobError(deps.redis, deps.keys, rec.jobId, error);
  await new FoxapiBudget(deps.redis, deps.keys).pauseSubmits('upstream_auth', deps.config.pauseMs);
  await finishAllFiles(ctx, rec, expected, 'failed', error);
  return done;
}

/**
 * Under the claim, the media the submit sends is what the batch's record says (a late attempt
 * can no longer change it: saveMedia writes only while `queued`); with `presign` the URLs are
 * made now, to be recorded with the task id. Null (the claim released) when a file from an
 * upload has no entry after all: the next attempt decides it.
 */
async function mediaAfterClaim(
  ctx: StepContext,
  rec: BatchRecord,
  files: readonly FileRecord[],
  token: string,
): Promise<{ media: Record<number, MediaEntry>; recordMedia: Record<number, MediaEntry> } | null> {
  const { deps } = ctx;
  const fixed = (await deps.store.get(rec.jobId, rec.batch))?.media ?? {};
  const recordMedia = deps.media.mode === 'presign' ? await presignMedia(ctx, files, fixed) : {};
  const media = { ...fixed, ...recordMedia };
  if (files.every((f, k) => f.up === undefined || media[k] !== undefined) && submittedInputs(files, media).some((i) => 'url' in i)) {
    return { media, recordMedia };
  }
  await deps.store.releaseClaim(rec.jobId, rec.batch, token);
  return null;
}

/** docs/upstream.md, "Submitting without idempotency": a submit that may have created a task is resent only when allowed. */
export async function onAmbiguousSubmit(
  ctx: StepContext,
  rec: BatchRecord,
  token: string,
  why: string,
  retryAfterMs: number | null = null,
): Promise<StepResult> {
  const { deps, log } = ctx;
  deps.metrics.ambiguousSubmit(deps.config.submitRetryAmbiguous ? 'resubmitted' : 'failed');
  if (deps.config.submitRetryAmbiguous) {
    await deps.store.releaseClaim(rec.jobId, rec.batch, token);
    log.warn({ why }, 'ambiguous submit: resubmitting (SUBMIT_RETRY_AMBIGUOUS=true), a task may be paid twice');
    return later(await backOffBatch(ctx, rec, retryAfterMs), 'ambiguous submit, retrying');
  }
  log.warn({ why }, 'ambiguous submit: batch failed with upstream_submit_ambiguous; POST /retry sends it again');
  await finishAllFiles(ctx, rec, ['submitting'], 'failed', {
    code: 'upstream_submit_ambiguous',
    message: `The submit may or may not have created a foxapi task (${why}); not resent to avoid paying twice.`,
  });
  return done;
}

/**
 * A batch found `submitting`: another attempt holds the claim. While its lease runs it may
 * still be talking to foxapi; after that it died mid-request, and whether foxapi created a
 * task is unknowable — the one window docs/upstream.md, "Submitting without idempotency", leaves open.
 */
export async function recoverSubmitting(ctx: StepContext, rec: BatchRecord): Promise<StepResult> {
  // The lease was set by Redis's clock; this worker's own may be seconds off.
  const now = await ctx.deps.store.nowMs();
  if (rec.leaseUntil !== null && rec.leaseUntil > now) return later(rec.leaseUntil - now + 250, 'another attempt is submitting');
  ctx.log.warn({ leaseUntil: rec.leaseUntil }, 'found a submit that died mid-request');
  return onAmbiguousSubmit(ctx, rec, rec.claim ?? '', 'the worker submitting it stopped mid-request');
}
