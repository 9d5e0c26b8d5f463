import { createJobBody, createJobQuery, fileUrl, type JobRequest, type OutboundPolicy, type UpstreamOptions } from '@batchscribe/shared';
import { ProblemError, type FieldError } from '../http/problem.js';
import { parseOr422 } from '../http/validation.js';

/** A validated request for a new job, whichever way it arrived (defined in shared: schedule fires make them too). */
export type { JobRequest };

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
 * A URL batchscribe will fetch or POST to on the tenant's behalf (callback_url, manifest_url)
 * must point where the outbound policy allows: 422 naming the field otherwise. Runs after the
 * body is otherwise valid, since it may resolve the host.
 */
export async function requireAllowedHost(policy: OutboundPolicy, url: string | null | undefined, path: string): Promise<void> {
  if (url == null) return;
  const refusal = await policy.checkUrl(url);
  if (refusal) throw new ProblemError('validation-error', `${path} is not allowed: it ${refusal}.`, [{ path, message: refusal }]);
}

/** `application/json` body: `file_urls` or `files` with refs. */
export function parseJsonIntake(body: unknown, limits: IntakeLimits): JobRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProblemError('validation-error', 'The body must be a JSON object.', [{ path: '(body)', message: 'must be an object' }]);
  }
  // Count before validating: a 413 must not cost a full parse of a huge list.
  const list = (body as { file_urls?: unknown; files?: unknown }).file_urls ?? (body as { files?: unknown }).files;
  if (Array.isArray(list) && list.length > limits.maxFiles) tooMany(list.length, limits);
  const parsed = parseOr422(createJobBody, body, 'The job');
  checkCallback(parsed.callback_url, limits, 'callback_url');
  const files = parsed.files ?? (parsed.file_urls ?? []).map((url) => ({ url }));
  return {
    files,
    model: parsed.model,
    options: upstreamOptions(parsed),
    name: parsed.name ?? null,
    metadata: parsed.metadata ?? null,
    callbackUrl: parsed.callback_url ?? null,
    priority: parsed.priority ?? null,
  };
}

/** `text/plain` body: one URL a line; `#` comments and blank lines skipped; options as query. */
export function parseTextIntake(text: string, query: Record<string, unknown>, limits: IntakeLimits): JobRequest {
  const opts = parseOr422(createJobQuery, query, 'The query');
  checkCallback(opts.callback_url, limits, 'callback_url');
  const files: Array<{ url: string }> = [];
  const errors: FieldError[] = [];
  const lines = text.split('\n');
  for (const [lineNo, rawLine] of lines.entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (files.length >= limits.maxFiles) tooMany(countUrls(lines), limits);
    const checked = fileUrl.safeParse(line);
    if (!checked.success && errors.length < 50) {
      errors.push({
        path: `file_urls.${files.length}`,
        message: `line ${lineNo + 1}: ${checked.error.issues[0]?.message ?? 'is invalid'}`,
      });
    }
    files.push({ url: line });
  }
  if (files.length === 0) errors.push({ path: 'file_urls', message: 'must hold at least one URL (one per line)' });
  if (errors.length > 0) {
    throw new ProblemError('validation-error', `The URL list is invalid: ${errors[0]!.path} ${errors[0]!.message}.`, errors);
  }
  return {
    files,
    model: opts.model,
    options: upstreamOptions(opts),
    name: opts.name ?? null,
    metadata: null,
    callbackUrl: opts.callback_url ?? null,
    priority: opts.priority ?? null,
  };
}

function countUrls(lines: string[]): number {
  return lines.reduce((n, l) => {
    const t = l.trim();
    return t === '' || t.startsWith('#') ? n : n + 1;
  }, 0);
}

function upstreamOptions(p: UpstreamOptions): UpstreamOptions {
  const o: UpstreamOptions = {};
  if (p.language_hints) o.language_hints = p.language_hints;
  if (p.channel_id) o.channel_id = p.channel_id;
  if (p.recognition) o.recognition = p.recognition;
  if (p.diarization) o.diarization = p.diarization;
  return o;
}
