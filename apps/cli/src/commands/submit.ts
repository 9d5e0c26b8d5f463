import { HttpError } from '../api/http-error.js';
import type { Job } from '../api/schemas.js';
import { EXIT, exitCodeForEndedJob, type ExitCode } from '../exit-codes.js';
import type { InputFormat } from '../input.js';
import { planSubmit, type PlannedInput, type SubmitPlan } from '../submit-inputs.js';
import { idempotencyKeyFor, inputDigest, type KeyedInput } from '../submission-key.js';
import { createUploadProgress, formatBytes } from '../upload-progress.js';
import { mediaFingerprint } from '../uploads/media-source.js';
import { cacheDir, SubmissionStore, UploadUrlStore } from '../uploads/resume-state.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_RETRY_DELAYS, uploadAll, type UploadItem } from '../uploads/uploader.js';
import { followToEnd, writeJson, type CommandContext } from './context.js';

export interface SubmitOptions {
  model?: string;
  lang?: string[];
  name?: string;
  callback?: string;
  priority?: string;
  idempotencyKey?: string;
  reuse?: boolean;
  inputFormat?: InputFormat;
  include?: string[];
  exclude?: string[];
  parallel?: number;
  resume?: boolean;
  wait?: boolean;
  progress: boolean;
  json?: boolean;
}

/** Upload tuning the tests shrink (chunks, retry delays); users get the defaults. */
export interface UploadTuning {
  chunkSize: number;
  retryDelays: number[];
}

const DEFAULT_TUNING: UploadTuning = { chunkSize: DEFAULT_CHUNK_SIZE, retryDelays: DEFAULT_RETRY_DELAYS };

/**
 * `submit PATH…`: URL lists are sent as before; folders, zip archives and media files are
 * uploaded first (tus, resumable), then the job names them by upload id. With `--resume`, a run
 * continues the uploads of an earlier run of the same inputs from their offsets, and returns the
 * job that run created rather than creating a second one.
 */
export async function submitCommand(
  ctx: CommandContext,
  paths: readonly string[],
  opts: SubmitOptions,
  tuning: UploadTuning = DEFAULT_TUNING,
): Promise<ExitCode> {
  const plan = await planSubmit(ctx.io, paths, opts);
  try {
    for (const line of plan.found) ctx.io.stderr.write(`${line}\n`);
    const hasUploads = plan.inputs.some((i) => i.kind === 'upload');
    const submitted = hasUploads
      ? await submitWithUploads(ctx, plan, opts, tuning)
      : await createJob(ctx, plan, jobBody(plan.inputs, [], plan.fields, opts), opts.idempotencyKey);
    return await afterSubmit(ctx, submitted, opts);
  } finally {
    plan.close();
  }
}

interface Submitted {
  job: Job;
  replayed: boolean;
}

async function afterSubmit(ctx: CommandContext, { job, replayed }: Submitted, opts: SubmitOptions): Promise<ExitCode> {
  const batches = job.batches ? ` in ${job.batches.total} batch${job.batches.total === 1 ? '' : 'es'}` : '';
  ctx.io.stderr.write(
    replayed
      ? `${job.id} was already submitted with this idempotency key (status ${job.status})\n`
      : `submitted ${job.id}: ${job.counts.total} file${job.counts.total === 1 ? '' : 's'}${batches}${job.priority ? `, priority ${job.priority}` : ''}\n`,
  );
  if (!opts.json) ctx.io.stdout.write(`${job.id}\n`);
  if (!opts.wait) {
    if (opts.json) writeJson(ctx, job);
    return EXIT.ok;
  }
  const final = await followToEnd(ctx, job, { progress: opts.progress, endTo: 'stderr' });
  if (opts.json) writeJson(ctx, final);
  return exitCodeForEndedJob(final);
}

async function submitWithUploads(ctx: CommandContext, plan: SubmitPlan, opts: SubmitOptions, tuning: UploadTuning): Promise<Submitted> {
  const connection = ctx.client.connection;
  const cache = cacheDir(ctx.io.env);
  let cacheWarned = false;
  const warnCache = (err: unknown) => {
    if (cacheWarned) return;
    cacheWarned = true;
    ctx.io.stderr.write(`batchscribe: warning: cannot write ${cache} (${(err as Error).message}); --resume will not find this run\n`);
  };
  const urlStore = new UploadUrlStore(cache, warnCache);
  const submissions = new SubmissionStore(cache);
  void urlStore.prune(ctx.io.now());
  void submissions.prune(ctx.io.now());

  // One upload per distinct content: a file named twice (a folder and a file in it) goes up once.
  const items = new Map<string, UploadItem>();
  const keyed: KeyedInput[] = plan.inputs.map((input) => {
    if (input.kind === 'url') return { kind: 'url', url: input.url, ...(input.ref ? { ref: input.ref } : {}) };
    const fingerprint = mediaFingerprint(input.file);
    if (!items.has(fingerprint)) items.set(fingerprint, { file: input.file, fingerprint, shownAs: input.where });
    return { kind: 'upload', ref: input.ref, size: input.file.size, fingerprint };
  });
  const fields = jobFields(plan.fields, opts);
  const digest = inputDigest(connection.baseUrl, keyed, fields);

  let key = opts.idempotencyKey;
  if (key === undefined) {
    const record = opts.resume ? await submissions.get(digest) : undefined;
    if (record?.job_id) {
      const job = await ctx.client.getJob(record.job_id).catch((err: unknown) => {
        if (err instanceof HttpError && err.status === 404) return undefined; // deleted since: submit anew
        throw err;
      });
      if (job) {
        ctx.io.stderr.write(`these inputs were already submitted as ${job.id}; nothing uploaded\n`);
        return { job, replayed: true };
      }
    }
    key = record && !record.job_id ? record.key : idempotencyKeyFor(digest);
    await submissions.put(digest, { key }).catch(warnCache);
  }

  const list = [...items.values()];
  const bytes = list.reduce((n, i) => n + i.file.size, 0);
  ctx.io.stderr.write(
    `uploading ${list.length} file${list.length === 1 ? '' : 's'} (${formatBytes(bytes)})${opts.resume ? ', continuing uploads of an earlier run' : ''}\n`,
  );
  const started = ctx.io.now();
  const progress = createUploadProgress(ctx.io, opts.progress && !opts.json);
  let outcomes;
  try {
    outcomes = await uploadAll(list, {
      endpoint: `${connection.baseUrl}/v1/uploads`,
      token: connection.token,
      tokenSource: connection.tokenSource,
      parallel: opts.parallel ?? 4,
      resume: opts.resume === true,
      store: urlStore,
      chunkSize: tuning.chunkSize,
      retryDelays: tuning.retryDelays,
      onProgress: (totals) => progress.update(totals),
    });
  } finally {
    progress.stop();
  }
  const resumed = [...outcomes.values()].filter((o) => o.resumedFrom !== null);
  const kept = resumed.reduce((n, o) => n + (o.resumedFrom ?? 0), 0);
  const seconds = Math.max(0, Math.round((ctx.io.now() - started) / 1000));
  ctx.io.stderr.write(
    `uploaded ${list.length} file${list.length === 1 ? '' : 's'} (${formatBytes(bytes)}) in ${seconds}s` +
      (resumed.length > 0 ? `; ${resumed.length} continued from an earlier run (${formatBytes(kept)} not sent again)` : '') +
      '\n',
  );

  const uploadIds = plan.inputs.map((input) =>
    input.kind === 'upload' ? outcomes.get(mediaFingerprint(input.file))?.uploadId : undefined,
  );
  const submitted = await createJob(ctx, plan, jobBody(plan.inputs, uploadIds, plan.fields, opts), key);
  if (!opts.idempotencyKey) await submissions.put(digest, { key, job_id: submitted.job.id }).catch(warnCache);
  return submitted;
}

async function createJob(
  ctx: CommandContext,
  plan: SubmitPlan,
  body: Record<string, unknown>,
  key: string | undefined,
): Promise<Submitted> {
  return ctx.client.submit(body, key).catch((err: unknown) => {
    throw err instanceof HttpError && err.fieldErrors.length > 0
      ? err.withDetails(err.fieldErrors.map((e) => inInput(e.path, e.message, plan.inputs)))
      : err;
  });
}

/** The job's other fields: a JSON input's, then the flags over them. */
function jobFields(fromInput: Record<string, unknown>, opts: Omit<SubmitOptions, 'progress'>): Record<string, unknown> {
  return { ...fromInput, ...flagFields(opts) };
}

function flagFields(opts: Omit<SubmitOptions, 'progress'>): Record<string, unknown> {
  const flags: Record<string, unknown> = {
    model: opts.model,
    language_hints: opts.lang,
    name: opts.name,
    callback_url: opts.callback,
    priority: opts.priority,
    reuse: opts.reuse ? true : undefined,
  };
  return Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
}

/**
 * The `POST /v1/jobs` body: `file_urls` for plain URLs, else `files` (`{url, ref?}` and
 * `{upload_id, ref}` entries in input order); flags win over fields from a JSON input.
 */
export function jobBody(
  inputs: readonly PlannedInput[],
  uploadIds: ReadonlyArray<string | undefined>,
  fromInput: Record<string, unknown>,
  opts: Omit<SubmitOptions, 'progress'>,
): Record<string, unknown> {
  const asFiles = inputs.some((i) => i.kind === 'upload' || i.ref !== undefined);
  const list = asFiles
    ? {
        files: inputs.map((input, i) =>
          input.kind === 'url' ? { url: input.url, ...(input.ref ? { ref: input.ref } : {}) } : { upload_id: uploadIds[i], ref: input.ref },
        ),
      }
    : { file_urls: inputs.map((input) => (input.kind === 'url' ? input.url : '')) };
  return { ...fromInput, ...list, ...flagFields(opts) };
}

/** The API's `file_urls.3` or `files.3.upload_id` as the input's own place: `urls.txt line 5 (ref)`, `meetings/2026/a.m4a (upload_id)`. */
function inInput(path: string, message: string, inputs: readonly PlannedInput[]): string {
  const match = /^(?:file_urls|files)\.(\d+)(?:\.(.+))?$/.exec(path);
  const where = match ? inputs[Number(match[1])]?.where : undefined;
  if (!match || !where) return `${path}: ${message}`;
  return `${where}${match[2] ? ` (${match[2]})` : ''}: ${message}`;
}
