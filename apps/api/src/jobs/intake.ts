import {
  createJobBody,
  createJobQuery,
  fileUrl,
  isAcceptedFileUrl,
  jsonInputProblems,
  parseUrlList,
  type CreateJobBody,
  type CreateJobQuery,
  type FileEntryRequest,
  type JobRequest,
  type OutboundPolicy,
  type UpstreamOptions,
  UrlListBytes,
} from '@batchscribe/shared';
import { ProblemError, type FieldError } from '../http/problem.js';
import { parseOr422, validationProblem } from '../http/validation.js';
import { ScannedJobBody } from './job-body-scan.js';

/** A validated request for a new job, whichever way it arrived (defined in shared: schedule fires make them too). */
export type { JobRequest };

/**
 * A request as the body gave it: its uploads still named by id. `resolveUploads`
 * (intake-uploads.ts) makes the JobRequest once it knows each names a ready upload of the tenant.
 */
export type IntakeRequest = Omit<JobRequest, 'files'> & { files: FileEntryRequest[] | UrlListBytes };

export interface IntakeLimits {
  maxFiles: number;
  webhookSecretSet: boolean;
  callbackHosts: readonly string[] | undefined;
}

function tooMany(count: number, limits: IntakeLimits): never {
  throw new ProblemError('payload-too-large', `The job has ${count} files; at most ${limits.maxFiles} are accepted per job.`);
}

/** callback_url needs a WEBHOOK_SECRET to sign with, and a host in CALLBACK_HOSTS when that is set; schedules check their `job.callback_url` with it too. */
export function checkCallback(url: string | undefined, limits: IntakeLimits, path: string): void {
  if (url === undefined) return;
  const errors: FieldError[] = [];
  if (!limits.webhookSecretSet) errors.push({ path, message: 'cannot be used: this server has no WEBHOOK_SECRET to sign webhooks' });
  const host = new URL(url).hostname.toLowerCase();
  if (limits.callbackHosts && !limits.callbackHosts.includes(host)) errors.push({ path, message: `host ${host} is not in CALLBACK_HOSTS` });
  if (errors.length > 0) throw new ProblemError('validation-error', `callback_url is invalid: ${errors[0]!.message}.`, errors);
}

/**
 * With a JSON body every option is in the body: a query parameter would be ignored, which a
 * caller cannot tell from being applied, so it is refused (schedules share this).
 */
export function refuseQuery(query: Record<string, unknown>, what: string): void {
  const names = Object.keys(query);
  if (names.length === 0) return;
  const errors = names.slice(0, 50).map((name) => ({
    path: `query.${name}`,
    message: 'is not accepted with a JSON body; send the options in the body (query parameters go with text/plain only)',
  }));
  throw validationProblem(what, errors);
}

/** Checks every JSON body needs before its schema: nesting, well-formed strings and keys, finite numbers. */
export function checkJsonInput(body: unknown, what: string): void {
  const problems = jsonInputProblems(body);
  if (problems.length > 0) throw validationProblem(what, problems);
}

/**
 * A URL batchscribe will fetch or POST to on the tenant's behalf (callback_url, manifest_url)
 * must point where the outbound policy allows: 422 naming the field otherwise. Runs after the
 * body is otherwise valid, since it may resolve the host.
 */
export async function requireAllowedHost(policy: OutboundPolicy, url: string | null | undefined, path: string): Promise<void> {
  if (url == null) return;
  const refusal = await policy.checkUrl(url);
  if (refusal) throw new ProblemError('validation-error', `${path} is not allowed: it ${refusal}.`, [{ path, message: refusal }]);
}

/** `application/json` body: `file_urls`, or `files` with refs (URLs, uploads, or both). */
export function parseJsonIntake(body: unknown, limits: IntakeLimits, query: Record<string, unknown> = {}): IntakeRequest {
  refuseQuery(query, 'The request');
  if (body instanceof ScannedJobBody) return scannedIntake(body, limits);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProblemError('validation-error', 'The body must be a JSON object.', [{ path: '(body)', message: 'must be an object' }]);
  }
  // Count before validating: a 413 must not cost a full parse of a huge list.
  const list = (body as { file_urls?: unknown; files?: unknown }).file_urls ?? (body as { files?: unknown }).files;
  if (Array.isArray(list) && list.length > limits.maxFiles) tooMany(list.length, limits);
  const parsed = parseJobBody(body as Record<string, unknown>);
  return intakeOf(parsed, parsed.files ?? (parsed.file_urls ?? []).map((url) => ({ url })), limits);
}

/**
 * A body whose list was read from its bytes (job-body-scan.ts): every URL in it is one the
 * schema accepts, so the schema sees the other members with the first URL, as parseJobBody
 * does. The list stays in its bytes (a `reuse` job's are taken one by one when it is written).
 */
function scannedIntake(body: ScannedJobBody, limits: IntakeLimits): IntakeRequest {
  if (body.urls.length > limits.maxFiles) tooMany(body.urls.length, limits);
  const rest = { ...body.rest, file_urls: [body.urls.url(0)] };
  checkJsonInput(rest, 'The job');
  const parsed = parseOr422(createJobBody, rest, 'The job');
  return intakeOf(parsed, body.urls, limits);
}

function intakeOf(parsed: CreateJobBody, files: IntakeRequest['files'], limits: IntakeLimits): IntakeRequest {
  checkCallback(parsed.callback_url, limits, 'callback_url');
  return {
    files,
    model: parsed.model,
    options: upstreamOptions(parsed),
    name: parsed.name ?? null,
    metadata: parsed.metadata ?? null,
    callbackUrl: parsed.callback_url ?? null,
    priority: parsed.priority ?? null,
    reuse: parsed.reuse ?? false,
  };
}

/**
 * checkJsonInput, then the schema's answer, without their per-item cost on a long `file_urls`:
 * when every URL passes isAcceptedFileUrl (the schema's own checks, which imply well-formed
 * Unicode), both look at the body with the first URL only, and the list is put back after. A
 * list with a refused URL goes through both whole, so the 422 names each bad item exactly as
 * it always has.
 */
function parseJobBody(body: Record<string, unknown>): CreateJobBody {
  const urls = body.file_urls;
  if (Array.isArray(urls) && urls.length > 1 && urls.every(isAcceptedFileUrl)) {
    const rest = { ...body, file_urls: urls.slice(0, 1) };
    checkJsonInput(rest, 'The job');
    return { ...parseOr422(createJobBody, rest, 'The job'), file_urls: urls as string[] };
  }
  checkJsonInput(body, 'The job');
  return parseOr422(createJobBody, body, 'The job');
}

/** `text/plain` body: one URL a line (see parseUrlList: `#` comments, blank lines skipped); options as query. */
export function parseTextIntake(text: string | UrlListBytes, query: Record<string, unknown>, limits: IntakeLimits): IntakeRequest {
  checkJsonInput(query, 'The query');
  const opts = parseOr422(createJobQuery, query, 'The query');
  checkCallback(opts.callback_url, limits, 'callback_url');
  if (text instanceof UrlListBytes) {
    // Every line a URL fileUrl accepts (scanUrlListBytes): nothing to report, nothing to copy.
    if (text.length > limits.maxFiles) tooMany(text.length, limits);
    return textIntakeOf(opts, text);
  }
  const list = parseUrlList(text);
  if (list.entries > limits.maxFiles) tooMany(list.entries, limits);
  const errors: Array<FieldError & { line: number }> = list.errors.map((e) => ({
    path: `file_urls.${e.index}`,
    message: `line ${e.line}: ${e.message}`,
    line: e.line,
  }));
  const refused = new Set(list.errors.map((e) => e.index));
  let index = 0;
  for (const [k, url] of list.urls.entries()) {
    const line = list.lines[k]!;
    while (refused.has(index)) index++;
    const checked = isAcceptedFileUrl(url) ? null : fileUrl.safeParse(url);
    if (checked && !checked.success) {
      errors.push({ path: `file_urls.${index}`, message: `line ${line}: ${checked.error.issues[0]?.message ?? 'is invalid'}`, line });
    }
    index++;
  }
  if (list.entries === 0) errors.push({ path: 'file_urls', message: 'must hold at least one URL (one per line)', line: 0 });
  if (errors.length > 0) {
    const sorted = errors.sort((a, b) => a.line - b.line).slice(0, 50);
    throw new ProblemError(
      'validation-error',
      `The URL list is invalid: ${sorted[0]!.path} ${sorted[0]!.message}.`,
      sorted.map(({ path, message }) => ({ path, message })),
    );
  }
  return textIntakeOf(
    opts,
    list.urls.map((url) => ({ url })),
  );
}

function textIntakeOf(opts: CreateJobQuery, files: IntakeRequest['files']): IntakeRequest {
  return {
    files,
    model: opts.model,
    options: upstreamOptions(opts),
    name: opts.name ?? null,
    metadata: null,
    callbackUrl: opts.callback_url ?? null,
    priority: opts.priority ?? null,
    reuse: opts.reuse ?? false,
  };
}

function upstreamOptions(p: UpstreamOptions): UpstreamOptions {
  const o: UpstreamOptions = {};
  if (p.language_hints) o.language_hints = p.language_hints;
  if (p.channel_id) o.channel_id = p.channel_id;
  if (p.recognition) o.recognition = p.recognition;
  if (p.diarization) o.diarization = p.diarization;
  return o;
}
