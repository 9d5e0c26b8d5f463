import { z } from 'zod';
import { fileResultSchema, isoTimestamp, jobSchema, scheduleSchema } from '@batchscribe/shared';

/**
 * Schemas only the OpenAPI document uses: the page wrappers and the webhook body. The resources
 * they wrap (Job, FileResult, Schedule) are defined with their types in packages/shared.
 */

const nextCursor = z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' });

export const jobPageSchema = z.strictObject({ data: z.array(jobSchema), next_cursor: nextCursor }).meta({ id: 'JobPage' });
export const fileResultPageSchema = z
  .strictObject({ data: z.array(fileResultSchema), next_cursor: nextCursor })
  .meta({ id: 'FileResultPage' });
export const schedulePageSchema = z.strictObject({ data: z.array(scheduleSchema), next_cursor: nextCursor }).meta({ id: 'SchedulePage' });

/** The body batchscribe POSTs to a job's callback_url, signed per Standard Webhooks. */
export const webhookEventSchema = z
  .strictObject({
    type: z.enum(['job.completed', 'job.completed_with_errors', 'job.failed', 'job.cancelled']),
    timestamp: isoTimestamp.nullable().meta({ description: "The job's finished_at." }),
    data: jobSchema,
  })
  .meta({ id: 'WebhookEvent' });
export type JobPage = z.infer<typeof jobPageSchema>;
export type FileResultPage = z.infer<typeof fileResultPageSchema>;
export type SchedulePage = z.infer<typeof schedulePageSchema>;
export type WebhookEvent = z.infer<typeof webhookEventSchema>;
