import { z } from 'zod';

// The CLI is a client of the HTTP contract (the HTTP API as the README documents it), not of the server's code: it checks only
// the fields it uses and lets everything else through, so a newer server does not break it.

const counts = z.looseObject({
  total: z.number(),
  queued: z.number(),
  submitted: z.number(),
  completed: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});

const errorInfo = z.looseObject({ code: z.string(), message: z.string() });

export const jobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  model: z.string().nullish(),
  name: z.string().nullish(),
  priority: z.string().nullish(),
  created_at: z.string(),
  finished_at: z.string().nullish(),
  counts,
  batches: counts.optional(),
  progress: z.number(),
  error: errorInfo.nullish(),
  waiting_reason: errorInfo.nullish(),
  webhook: z.looseObject({ status: z.string(), attempts: z.number(), last_error: z.string().nullish() }).nullish(),
  usage: z.looseObject({ audio_seconds: z.number(), billed_seconds: z.number().nullish(), reused_files: z.number().optional() }).nullish(),
});
export type Job = z.infer<typeof jobSchema>;

export const jobPageSchema = z.looseObject({ data: z.array(jobSchema), next_cursor: z.string().nullable() });
export type JobPage = z.infer<typeof jobPageSchema>;

export const fileResultSchema = z.looseObject({
  index: z.number().int().min(0),
  // null for uploaded media, which is named by upload_id and filename instead
  file_url: z.string().nullish(),
  upload_id: z.string().nullish(),
  filename: z.string().nullish(),
  ref: z.string().nullish(),
  status: z.string(),
  error: errorInfo.nullish(),
});
export type FileResult = z.infer<typeof fileResultSchema>;

export const resultPageSchema = z.looseObject({ data: z.array(fileResultSchema), next_cursor: z.string().nullable() });
export type ResultPage = z.infer<typeof resultPageSchema>;

export const scheduleSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  cron: z.string(),
  timezone: z.string().nullish(),
  manifest_url: z.string().nullish(),
  file_urls: z.array(z.string()).nullish(),
  created_at: z.string().nullish(),
  next_run: z.string().nullish(),
  last_run: z.looseObject({ at: z.string(), job_id: z.string().nullish(), error: z.string().nullish() }).nullish(),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const schedulePageSchema = z.looseObject({ data: z.array(scheduleSchema), next_cursor: z.string().nullable() });
export type SchedulePage = z.infer<typeof schedulePageSchema>;

export const usageSchema = z.looseObject({
  data: z.array(
    z.looseObject({
      date: z.string(),
      jobs: z.number(),
      files: z.number(),
      audio_seconds: z.number(),
      billed_seconds: z.number().nullable(),
      reused_files: z.number(),
    }),
  ),
  budget: z.looseObject({ month: z.string(), hours: z.number(), used_hours: z.number(), remaining_hours: z.number() }).nullable(),
});
export type Usage = z.infer<typeof usageSchema>;

const fieldError = z.looseObject({ path: z.string(), message: z.string() });
export type FieldError = z.infer<typeof fieldError>;

export const problemSchema = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
  // Anything else in the list is dropped rather than hiding the problem itself.
  errors: z
    .array(z.unknown())
    .transform((items) => items.map((e) => fieldError.safeParse(e)).flatMap((r) => (r.success ? [r.data] : [])))
    .optional(),
});
