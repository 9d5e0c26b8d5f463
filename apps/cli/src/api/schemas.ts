import { z } from 'zod';

// The CLI is a client of the HTTP contract (api.md), not of the server's code: it checks only
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
  webhook: z.looseObject({ status: z.string(), attempts: z.number(), last_error: z.string().nullish() }).nullish(),
});
export type Job = z.infer<typeof jobSchema>;

export const jobPageSchema = z.looseObject({ data: z.array(jobSchema), next_cursor: z.string().nullable() });
export type JobPage = z.infer<typeof jobPageSchema>;

export const fileResultSchema = z.looseObject({
  index: z.number().int().min(0),
  file_url: z.string(),
  ref: z.string().nullish(),
  status: z.string(),
  error: errorInfo.nullish(),
});
export type FileResult = z.infer<typeof fileResultSchema>;

export const resultPageSchema = z.looseObject({ data: z.array(fileResultSchema), next_cursor: z.string().nullable() });
export type ResultPage = z.infer<typeof resultPageSchema>;

export const problemSchema = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
});
