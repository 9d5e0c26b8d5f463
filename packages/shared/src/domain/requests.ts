import { z } from 'zod';
import { LANGUAGE_HINTS, MODELS } from './job.js';
import { UPLOAD_ID_PATTERN } from './ids.js';
import { isPlainUrl } from './plain-url.js';
import { MAX_JSON_DEPTH, isWellFormedString, jsonByteLength, jsonDepth } from './json-input.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_REF_LENGTH = 256;
export const MAX_METADATA_BYTES = 4096;
/** `recognition` and `diarization` are stored with the job and sent with every batch: each as small as metadata. */
export const MAX_UPSTREAM_OPTION_BYTES = 4096;
export const MAX_LANGUAGE_HINTS = 8;
export const MAX_CHANNELS = 16;

const WELL_FORMED = { message: 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)' };

/** Any string the service stores: Redis's cjson cannot read back a lone surrogate once JSON.stringify has escaped it. */
export const wellFormedString = (message = 'must be a string') => z.string({ message }).refine(isWellFormedString, WELL_FORMED);

/** WHATWG URL parsing drops tabs and newlines and encodes spaces; a URL that needs that is a typo, not a URL. */
const SPACE_OR_CONTROL = /[\s\p{Cc}]/u;
/** Printable ASCII only: such a string holds no whitespace or control character, and is tested far faster than the pattern above. */
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const HTTP_SCHEME = /^https?:\/\//i;

const noSpaceOrControl = (u: string): boolean => PRINTABLE_ASCII.test(u) || !SPACE_OR_CONTROL.test(u);
const parsableHttpUrl = (u: string): boolean => HTTP_SCHEME.test(u) && URL.canParse(u);

function httpUrl(message: string) {
  return wellFormedString()
    .max(MAX_URL_LENGTH, { message: `must be at most ${MAX_URL_LENGTH} characters` })
    .refine(noSpaceOrControl, { message: 'must not hold whitespace or control characters (percent-encode them)' })
    .refine(parsableHttpUrl, { message });
}

/**
 * True exactly when `fileUrl` accepts `u`, by the same checks without zod's per-item cost: a
 * 100,000-URL intake checks its list with this (a plain URL, domain/plain-url.ts, at once), and
 * asks the schema only when an item is refused, for the error it names (packages/shared/test/file-url.test.ts: both agree).
 */
export function isAcceptedFileUrl(u: unknown): u is string {
  if (typeof u !== 'string' || u.length > MAX_URL_LENGTH) return false;
  if (isPlainUrl(u)) return true;
  return isWellFormedString(u) && noSpaceOrControl(u) && parsableHttpUrl(u);
}

/** The scheme check below as a JSON Schema pattern (which has no case-insensitive flag), for the OpenAPI document. */
const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://';

/** http(s) only, parsable, bounded: foxapi fetches these itself, so nothing else can work. */
export const fileUrl = httpUrl('must be an http or https URL').meta({ pattern: HTTP_URL_PATTERN });

const ref = wellFormedString()
  .max(MAX_REF_LENGTH, { message: `must be at most ${MAX_REF_LENGTH} characters` })
  .optional();

/** The shape of an upload id; whether it names a ready upload of the tenant is the intake's check (422 as well). */
export const uploadIdField = wellFormedString().regex(UPLOAD_ID_PATTERN, { message: 'must be an upload id (upl_…) from POST /v1/uploads' });

const urlEntry = z.strictObject({ url: fileUrl, ref });
const uploadEntry = z.strictObject({ upload_id: uploadIdField, ref });

/**
 * `{url, ref?}` or `{upload_id, ref?}`, both kinds may be mixed in one job. A bad entry is
 * reported in the terms of the kind it is nearest to (the api's fieldErrors picks that branch).
 */
const fileEntry = z.union([urlEntry, uploadEntry]);

/** A `files` entry as parsed: one kind or the other. */
export type FileEntryRequest = z.infer<typeof fileEntry>;

export const callbackUrl = httpUrl('must be an http or https URL').meta({ pattern: HTTP_URL_PATTERN });

/**
 * A free-form JSON object kept with the job: bounded in bytes and in depth, both measured
 * without recursion (a deeply nested value must cost a 422, not the call stack).
 */
export function boundedJsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      ctx.addIssue({ code: 'custom', message: `must nest at most ${MAX_JSON_DEPTH} levels deep` });
    } else if (jsonByteLength(value) > maxBytes) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes of JSON` });
    }
  });
}

function unique<T>(what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<T>();
    for (const [i, item] of items.entries()) {
      if (seen.has(item)) ctx.addIssue({ code: 'custom', path: [i], message: `repeats ${what} ${String(item)}` });
      seen.add(item);
    }
  };
}

/** Options every job shares with the schedules that create jobs. */
export const jobOptionsShape = {
  model: z.enum(MODELS, { message: `must be one of ${MODELS.join(', ')}` }).default('paraformer-v2'),
  language_hints: z
    .array(z.enum(LANGUAGE_HINTS, { message: `must be one of ${LANGUAGE_HINTS.join(' ')}` }))
    .min(1)
    .max(MAX_LANGUAGE_HINTS, { message: `must hold at most ${MAX_LANGUAGE_HINTS} hints` })
    .superRefine(unique('the hint'))
    .optional(),
  channel_id: z
    .array(z.number().int().min(0))
    .min(1)
    .max(MAX_CHANNELS, { message: `must hold at most ${MAX_CHANNELS} channels` })
    .superRefine(unique('channel'))
    .optional(),
  recognition: boundedJsonObject(MAX_UPSTREAM_OPTION_BYTES).optional(),
  diarization: boundedJsonObject(MAX_UPSTREAM_OPTION_BYTES).optional(),
  name: wellFormedString().min(1).max(256).optional(),
  metadata: boundedJsonObject(MAX_METADATA_BYTES).optional(),
  callback_url: callbackUrl.optional(),
  priority: z.enum(['interactive', 'bulk']).optional(),
  /** README, "Costs": complete files this tenant already had transcribed from that transcript. */
  reuse: z
    .boolean({ message: 'must be true or false' })
    .meta({
      description:
        'Complete files this tenant already had transcribed (same URL or upload content, model and upstream options) within JOB_RETENTION_S from that transcript, with no foxapi call.',
    })
    .optional(),
};

/** language_hints only with paraformer-v2; shared by job and schedule requests. */
export function checkHints(body: { model: string; language_hints?: unknown }, ctx: z.RefinementCtx): void {
  if (body.model === 'paraformer-8k-v2' && body.language_hints !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['language_hints'], message: 'is only supported by paraformer-v2' });
  }
}

/** `POST /v1/jobs` JSON body: exactly one of `file_urls` or `files`. */
export const createJobBody = z
  .strictObject({
    ...jobOptionsShape,
    file_urls: z.array(fileUrl).min(1, { message: 'must hold at least one URL' }).optional(),
    files: z.array(fileEntry).min(1, { message: 'must hold at least one file' }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.file_urls === undefined && body.files === undefined) {
      ctx.addIssue({ code: 'custom', path: ['file_urls'], message: 'is required (or give files)' });
    }
    if (body.file_urls !== undefined && body.files !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['files'], message: 'cannot be given together with file_urls' });
    }
    checkHints(body, ctx);
  });
export type CreateJobBody = z.infer<typeof createJobBody>;

/** Query parameters of a text/plain `POST /v1/jobs`. */
export const createJobQuery = z
  .strictObject({
    model: jobOptionsShape.model,
    language_hints: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((h) => h.trim())
          .filter(Boolean),
      )
      .pipe(jobOptionsShape.language_hints.unwrap())
      .optional(),
    name: jobOptionsShape.name,
    callback_url: jobOptionsShape.callback_url,
    priority: jobOptionsShape.priority,
    reuse: z
      .enum(['true', 'false'], { message: 'must be "true" or "false"' })
      .transform((v) => v === 'true')
      .optional(),
  })
  .superRefine(checkHints);
export type CreateJobQuery = z.infer<typeof createJobQuery>;

export const JOB_STATUS_FILTER = z.enum(['queued', 'running', 'cancelling', 'completed', 'completed_with_errors', 'failed', 'cancelled']);
