import { PassThrough, type Readable } from 'node:stream';
import {
  FoxapiBudget,
  isFoxapiError,
  uploadMediaKey,
  type BatchRecord,
  type ErrorInfo,
  type FileRecord,
  type MediaEntry,
  type MediaHandoff,
  type UploadRecord,
} from '@batchscribe/shared';
import pLimit from 'p-limit';
import { backOffBatch } from './backoff.js';
import { later, type StepContext, type StepResult } from './step.js';

/*
 * How foxapi gets the files of a batch that come from uploads (MEDIA_HANDOFF; docs/architecture.md,
 * "Jobs from uploads"). Decided per file while the batch is still `queued`, and kept in its
 * record (BatchStore.saveMedia, `m:<position>`), before the claim and the submit:
 *
 * - `foxapi`: each file is streamed from the blob store to foxapi's file API, and the URL foxapi
 *   answers is recorded as soon as it answers. A worker that dies mid-way leaves the batch
 *   `queued`; the next attempt sends only the files with nothing recorded. A file whose upload
 *   may have reached foxapi without its URL being recorded is sent again: harmless, since
 *   foxapi's file storage bills nothing, the copy nobody recorded is never submitted (so never
 *   transcribed) and expires after 72 h.
 * - `presign`: the submit sends a pre-signed GET URL of the upload's object, valid for
 *   TASK_TIMEOUT_MS, made after the claim and recorded with the task id.
 *
 * Either way a file whose media is gone (the upload deleted, or released when the job ended
 * before a retry) fails alone with `upload_gone`, and one foxapi refuses with
 * `media_handoff_failed`; the rest of the batch goes on.
 */

/** Files of one batch sent to foxapi's file API at once. */
const PARALLEL_HANDOFFS = 4;
/** Failed attempts (network, 5xx, full storage, unreadable media) before a file fails with `media_handoff_failed`. */
export const HANDOFF_TRIES = 3;
/**
 * A foxapi file URL older than this is sent again rather than submitted: foxapi keeps files
 * 72 h, and the task must still find the file after it was created (queued upstream for hours).
 */
export const FOXAPI_FILE_REUSE_MS = 48 * 3_600_000;
/** S3 caps a pre-signed URL at 7 days. */
const MAX_PRESIGN_S = 7 * 24 * 3_600;

export const UPLOAD_GONE = 'upload_gone';
export const MEDIA_HANDOFF_FAILED = 'media_handoff_failed';

/** What the batch's submit sends, by position: the URL, or the error the file fails with instead of going. */
export type SubmittedInput = { url: string } | { error: ErrorInfo };

/** The inputs of a batch as its submit sends them: URL files as given, uploads by their recorded media. */
export function submittedInputs(files: readonly FileRecord[], media: Readonly<Record<number, MediaEntry>>): SubmittedInput[] {
  return files.map((f, k): SubmittedInput => {
    if (f.up === undefined) return { url: f.u ?? '' };
    const entry = media[k];
    if (entry && 'e' in entry) return { error: entry.e };
    if (entry && 'u' in entry) return { url: entry.u };
    return { error: { code: UPLOAD_GONE, message: 'The uploaded file was never handed to foxapi.' } };
  });
}

/** The error a file of the batch fails with because its media could not go, if it is one. */
export function mediaErrorOf(rec: BatchRecord, position: number): ErrorInfo | null {
  const entry = rec.media[position];
  return entry && 'e' in entry ? entry.e : null;
}

/** Positions of files from uploads that the submit still needs a URL for (MEDIA_HANDOFF foxapi) or a check (presign). */
function undecided(files: readonly FileRecord[], media: Readonly<Record<number, MediaEntry>>, mode: MediaHandoff, now: number): number[] {
  return files.flatMap((f, k) => {
    if (f.up === undefined) return [];
    const entry = media[k];
    if (entry === undefined || 'n' in entry) return [k];
    if ('u' in entry) return mode === 'foxapi' && now - entry.at > FOXAPI_FILE_REUSE_MS ? [k] : [];
    return [];
  });
}

function gone(detail: string): MediaEntry {
  return { e: { code: UPLOAD_GONE, message: `The uploaded media is no longer there (${detail}); upload the file again in a new job.` } };
}

/** Why an upload's media cannot serve this job, or null when it can. */
function goneReason(rec: UploadRecord | null, jobId: string): string | null {
  if (rec === null) return 'the upload was deleted';
  if (rec.deleting) return 'the upload is being deleted';
  if (!rec.jobs.includes(jobId)) return 'the job released it when its files ended';
  return null;
}

export type PreparedMedia =
  /** Every file from an upload has its entry: submit with these. */
  | { kind: 'ready'; media: Record<number, MediaEntry> }
  /** Come back later (the request budget, a transient failure); what was decided is kept. */
  | { kind: 'step'; result: StepResult }
  /** foxapi refused the key (401): the job fails as for a submit. */
  | { kind: 'auth' };

/**
 * Before the claim: decides how each file from an upload goes (see the module comment),
 * recording each decision in the batch as soon as it is made. Returns the batch's media, or
 * the step to take instead of submitting now.
 */
export async function prepareMedia(ctx: StepContext, rec: BatchRecord, files: readonly FileRecord[]): Promise<PreparedMedia> {
  const { deps, log } = ctx;
  const media: Record<number, MediaEntry> = { ...rec.media };
  const todo = undecided(files, media, deps.media.mode, deps.clock());
  if (todo.length === 0) return { kind: 'ready', media };

  const records = new Map<string, UploadRecord | null>();
  for (const id of new Set(todo.map((k) => files[k]!.up!))) records.set(id, await deps.media.uploads.get(id));
  const save = async (entries: Record<number, MediaEntry>): Promise<boolean> => {
    Object.assign(media, entries);
    return deps.store.saveMedia(rec.jobId, rec.batch, entries);
  };

  const missing: Record<number, MediaEntry> = {};
  const toSend: number[] = [];
  for (const k of todo) {
    const reason = goneReason(records.get(files[k]!.up!) ?? null, rec.jobId);
    if (reason !== null) missing[k] = gone(reason);
    else if (deps.media.mode === 'foxapi') toSend.push(k);
  }
  if (Object.keys(missing).length > 0) {
    log.warn({ files: Object.keys(missing).map((k) => rec.files[Number(k)]) }, 'uploaded media gone: those files fail');
    if (!(await save(missing))) return { kind: 'step', result: later(0, 'batch moved on') };
  }
  if (toSend.length === 0) return { kind: 'ready', media };

  // foxapi: each file to its file API, under the shared request budget, a few at a time.
  let wait = 0;
  let transient: { retryAfterMs: number | null } | null = null;
  let auth = false;
  let moved = false;
  const limit = pLimit(PARALLEL_HANDOFFS);
  await Promise.all(
    toSend.map((k) =>
      limit(async () => {
        if (wait > 0 || auth || moved) return;
        const booked = await deps.limiter.acquire();
        if (booked > 0) {
          wait = Math.max(wait, booked);
          return;
        }
        const upload = records.get(files[k]!.up!)!;
        const tries = (media[k] && 'n' in media[k] ? media[k].n : 0) + 1;
        const outcome = await handOff(ctx, upload, tries);
        if (outcome.kind === 'auth') {
          auth = true;
          return;
        }
        if (outcome.kind === 'retry') {
          transient = { retryAfterMs: Math.max(transient?.retryAfterMs ?? 0, outcome.retryAfterMs ?? 0) || null };
          if (outcome.rateLimitedMs !== null) await deps.limiter.backOff(outcome.rateLimitedMs);
          if (outcome.counts === false) return;
        }
        if (outcome.kind === 'done' && 'u' in outcome.entry) deps.crash('after-handoff-upload');
        if (!(await save({ [k]: outcome.entry }))) moved = true;
      }),
    ),
  );
  if (auth) return { kind: 'auth' };
  if (moved) return { kind: 'step', result: later(0, 'batch moved on') };
  if (transient !== null) {
    const delayMs = await backOffBatch(ctx, rec, (transient as { retryAfterMs: number | null }).retryAfterMs);
    return { kind: 'step', result: later(Math.max(delayMs, wait), 'media handoff failed, retrying') };
  }
  if (wait > 0) return { kind: 'step', result: later(wait, 'request budget (media handoff)') };
  return { kind: 'ready', media };
}

type HandOffOutcome =
  | { kind: 'done'; entry: MediaEntry }
  /** Worth another attempt later; `counts`: whether it counts against the file's tries (a 429 does not), and then `entry` records it. */
  | { kind: 'retry'; entry: MediaEntry; counts: boolean; retryAfterMs: number | null; rateLimitedMs: number | null }
  | { kind: 'auth' };

/** One file to foxapi's file API: the URL it answers, or what to do about its failure. */
async function handOff(ctx: StepContext, upload: UploadRecord, tries: number): Promise<HandOffOutcome> {
  const { deps, log } = ctx;
  const flog = log.child({ uploadId: upload.id });
  const failed = (message: string): HandOffOutcome => ({
    kind: 'done',
    entry: { e: { code: MEDIA_HANDOFF_FAILED, message: `The uploaded file could not be sent to foxapi's file API: ${message}` } },
  });
  const retry = (message: string, retryAfterMs: number | null = null): HandOffOutcome => {
    if (tries >= HANDOFF_TRIES) return failed(`${message} (${tries} attempts)`);
    flog.warn({ tries, err: message }, 'media handoff failed; trying again later');
    return { kind: 'retry', entry: { n: tries }, counts: true, retryAfterMs, rateLimitedMs: null };
  };

  let body: Readable | null;
  try {
    body = await deps.media.blobs.get(uploadMediaKey(deps.media.queuePrefix, upload.id));
  } catch (err) {
    return retry(`its media could not be read (${(err as Error).message})`);
  }
  if (body === null) return { kind: 'done', entry: gone('its media is missing from the blob store') };
  try {
    const sent = await deps.foxapi.uploadFile(crashMidway(ctx, body), upload.filename, upload.size, { log: flog, autoCleanup: false });
    flog.info({ fileId: sent.id, size: upload.size }, 'media handed to foxapi');
    return { kind: 'done', entry: { u: sent.url, at: deps.clock() } };
  } catch (err) {
    body.destroy();
    if (!isFoxapiError(err)) return retry(`its media could not be read (${(err as Error).message})`);
    switch (err.kind) {
      case 'auth':
        return { kind: 'auth' };
      case 'rate_limited': {
        const delayMs = err.retryAfterMs ?? deps.config.backoff.baseMs;
        return { kind: 'retry', entry: { n: tries - 1 }, counts: false, retryAfterMs: delayMs, rateLimitedMs: delayMs };
      }
      case 'quota':
        await new FoxapiBudget(deps.redis, deps.keys).pauseSubmits('upstream_insufficient_quota', deps.config.pauseMs);
        return { kind: 'retry', entry: { n: tries - 1 }, counts: false, retryAfterMs: deps.config.pauseRecheckMs, rateLimitedMs: null };
      case 'server':
      case 'timeout':
      case 'network':
      case 'protocol':
        return retry(`${err.message}${err.status ? ` (HTTP ${err.status})` : ''}`, err.retryAfterMs);
      default:
        // 403 is foxapi's full file storage (we ask it not to evict): it frees as files expire.
        if (err.status === 403) return retry(`foxapi's file storage is full (HTTP 403)`);
        return failed(`${err.message}${err.status ? ` (HTTP ${err.status})` : ''}`);
    }
  }
}

/** The media stream, passing the crash tests' failpoint once all of it is on its way, before foxapi answers. */
function crashMidway(ctx: StepContext, body: Readable): Readable {
  const through = new PassThrough({
    flush(done) {
      ctx.deps.crash('during-handoff-upload');
      done();
    },
  });
  body.on('error', (err) => through.destroy(err));
  return body.pipe(through);
}

/**
 * After the claim, for `presign`: a GET URL of each upload's object valid for TASK_TIMEOUT_MS,
 * for the files not already failed. Recorded with the task id (recordSubmitted's fields).
 */
export async function presignMedia(
  ctx: StepContext,
  files: readonly FileRecord[],
  media: Readonly<Record<number, MediaEntry>>,
): Promise<Record<number, MediaEntry>> {
  const { deps } = ctx;
  const sign = deps.media.blobs.presignGet;
  if (!sign) throw new Error('MEDIA_HANDOFF=presign needs a blob store that signs URLs (s3)');
  const expiresS = Math.min(MAX_PRESIGN_S, Math.ceil(deps.config.taskTimeoutMs / 1000));
  const signed: Record<number, MediaEntry> = {};
  for (const [k, f] of files.entries()) {
    if (f.up === undefined || (media[k] && 'e' in media[k])) continue;
    const url = await sign.call(deps.media.blobs, uploadMediaKey(deps.media.queuePrefix, f.up), expiresS);
    signed[k] = { u: url, at: deps.clock() };
  }
  return signed;
}
