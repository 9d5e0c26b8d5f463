import { z } from 'zod';
import { LANGUAGE_HINTS, MODELS } from './job.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_REF_LENGTH = 256;
export const MAX_METADATA_BYTES = 4096;

/** The scheme check below as a JSON Schema pattern (which has no case-insensitive flag), for the OpenAPI document. */
const HTTP_URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://';

/** http(s) only, parsable, bounded: foxapi fetches these itself, so nothing else can work. */
export const fileUrl = z
  .string({ message: 'must be a string' })
  .max(MAX_URL_LENGTH, { message: `must be at most ${MAX_URL_LENGTH} characters` })
  .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), { message: 'must be an http or https URL' })
  .meta({ pattern: HTTP_URL_PATTERN });

const fileEntry = z.strictObject({
  url: fileUrl,
  ref: z
    .string()
    .max(MAX_REF_LENGTH, { message: `must be at most ${MAX_REF_LENGTH} characters` })
    .optional(),
});

export const callbackUrl = z
  .string()
  .max(MAX_URL_LENGTH)
  .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), { message: 'must be an http or https URL' })
  .meta({ pattern: HTTP_URL_PATTERN });

/** Options every job shares with the schedules that create jobs. */
export const jobOptionsShape = {
  model: z.enum(MODELS, { message: `must be one of ${MODELS.join(', ')}` }).default('paraformer-v2'),
  language_hints: z
    .array(z.enum(LANGUAGE_HINTS, { message: `must be one of ${LANGUAGE_HINTS.join(' ')}` }))
    .min(1)
    .optional(),
  channel_id: z.array(z.number().int().min(0)).min(1).max(16).optional(),
  recognition: z.record(z.string(), z.unknown()).optional(),
  diarization: z.record(z.string(), z.unknown()).optional(),
  name: z.string().min(1).max(256).optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_BYTES, {
      message: `must be at most ${MAX_METADATA_BYTES} bytes of JSON`,
    })
    .optional(),
  callback_url: callbackUrl.optional(),
  priority: z.enum(['interactive', 'bulk']).optional(),
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
  })
  .superRefine(checkHints);

export const JOB_STATUS_FILTER = z.enum(['queued', 'running', 'cancelling', 'completed', 'completed_with_errors', 'failed', 'cancelled']);
