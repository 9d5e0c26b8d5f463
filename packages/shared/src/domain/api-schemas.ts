import { z } from 'zod';
import { scheduleJobOptions, type Schedule } from '../schedules/schedule.js';
import type { Channel, Sentence, Transcript, Word } from '../transcript/index.js';
import { FILE_STATUSES, JOB_STATUSES, MODELS, type Counts, type ErrorInfo, type FileResult, type Job, type WebhookState } from './job.js';

/**
 * zod schemas of what the API answers (README, "HTTP API"), for the OpenAPI document. The TypeScript
 * types in job.ts stay the source the code is written against; the assertions at the bottom
 * fail the build when a schema and its type part ways, and the objects are strict so the
 * contract tests catch a field the API sends but the document does not name.
 */

export const JOB_ID_PATTERN = /^job_[0-9a-z]{26}$/;

const timestamp = z.iso.datetime({ offset: true }).meta({ description: 'ISO-8601 date-time.', example: '2026-11-02T08:30:00.000Z' });

export const errorInfoSchema = z
  .strictObject({
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. `upstream_auth`, `upstream_timeout`.' }),
    message: z.string(),
  })
  .meta({ id: 'ErrorInfo' });

export const countsSchema = z
  .strictObject({
    total: z.number().int().min(0),
    queued: z.number().int().min(0),
    submitted: z.number().int().min(0),
    completed: z.number().int().min(0),
    failed: z.number().int().min(0),
    cancelled: z.number().int().min(0),
  })
  .meta({ description: 'At every instant the counts other than `total` sum to `total`.' });

export const webhookStateSchema = z
  .strictObject({
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int().min(0),
    last_error: z.string().nullable(),
  })
  .meta({ id: 'WebhookState' });

export const jobSchema = z
  .strictObject({
    id: z.string().regex(JOB_ID_PATTERN).meta({ example: 'job_01jc9x3k6m2v8q4r7t5w0y1z2a' }),
    object: z.literal('transcription.job'),
    tenant: z.string(),
    status: z.enum(JOB_STATUSES),
    model: z.enum(MODELS),
    name: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable().meta({ description: 'As given at submit.' }),
    priority: z.enum(['interactive', 'bulk']),
    callback_url: z.string().nullable(),
    schedule_id: z.string().nullable().meta({ description: 'Set on jobs a schedule created.' }),
    language_hints: z.array(z.string()).nullable().meta({ description: 'As given at submit; null when not given.' }),
    channel_id: z.array(z.number().int().min(0)).nullable().meta({ description: 'As given at submit; null when not given.' }),
    recognition: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Passed to foxapi as given; null when not given.' }),
    diarization: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Passed to foxapi as given; null when not given.' }),
    created_at: timestamp,
    updated_at: timestamp,
    finished_at: timestamp.nullable(),
    counts: countsSchema.meta({ description: 'Files by status.' }),
    batches: countsSchema.meta({ description: 'Batches (foxapi tasks) by status.' }),
    progress: z.number().int().min(0).max(100).meta({
      description:
        'Share of files that have ended, whatever the outcome: (completed + failed + cancelled) / total, floored. It is not the share transcribed: `counts` tells transcribed, failed and cancelled files apart.',
    }),
    error: errorInfoSchema.nullable().meta({ description: 'Job-level failure (e.g. upstream_auth).' }),
    webhook: webhookStateSchema.nullable(),
    waiting_reason: errorInfoSchema
      .nullable()
      .meta({ description: 'Why queued files are not going out right now (submits paused upstream).' }),
  })
  .meta({ id: 'Job', description: 'A transcription job.' });

const wordSchema = z.strictObject({
  begin_ms: z.number().int().min(0),
  end_ms: z.number().int().min(0),
  text: z.string().meta({ description: 'The word, without surrounding spaces.' }),
  punctuation: z.string().meta({ description: 'Punctuation predicted after the word (may be empty), without spaces.' }),
});

const sentenceSchema = z.strictObject({
  begin_ms: z.number().int().min(0),
  end_ms: z.number().int().min(0),
  text: z.string(),
  speaker_id: z.number().int().min(0).optional().meta({ description: 'Present only when diarization was on.' }),
  words: z.array(wordSchema),
});

const channelSchema = z.strictObject({
  channel_id: z.number().int().min(0),
  text: z.string(),
  sentences: z.array(sentenceSchema),
});

export const transcriptSchema = z
  .strictObject({
    text: z.string().meta({ description: 'Channel texts joined by a newline; empty when no speech was found.' }),
    duration_ms: z.number().int().min(0).nullable(),
    channels: z.array(channelSchema),
  })
  .meta({ id: 'Transcript', description: 'Times in milliseconds from the start of the file.' });

export const fileResultSchema = z
  .strictObject({
    index: z.number().int().min(0).meta({ description: 'Position in the submitted `file_urls`/`files`.' }),
    file_url: z.string(),
    ref: z.string().nullable().meta({ description: "The caller's own id, echoed." }),
    status: z.enum(FILE_STATUSES),
    batch: z.number().int().min(0),
    task_id: z.string().nullable(),
    transcript: transcriptSchema.nullable(),
    error: errorInfoSchema.nullable(),
  })
  .meta({ id: 'FileResult' });

const nextCursor = z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' });

export const jobPageSchema = z.strictObject({ data: z.array(jobSchema), next_cursor: nextCursor }).meta({ id: 'JobPage' });
export const fileResultPageSchema = z
  .strictObject({ data: z.array(fileResultSchema), next_cursor: nextCursor })
  .meta({ id: 'FileResultPage' });

export const scheduleRunSchema = z.strictObject({
  at: timestamp,
  job_id: z.string().nullable(),
  error: z.string().nullable().meta({ description: 'Why this fire made no job (manifest unreachable, too big, unparsable).' }),
});

export const scheduleSchema = z
  .strictObject({
    id: z.string().regex(/^sch_[0-9a-z]{26}$/),
    object: z.literal('schedule'),
    name: z.string(),
    cron: z.string().meta({ description: '5 fields, or 6 with seconds first.' }),
    timezone: z.string().meta({ description: 'IANA time zone the cron is read in.' }),
    manifest_url: z.string().nullable(),
    file_urls: z.array(z.string()).nullable(),
    job: scheduleJobOptions,
    created_at: timestamp,
    next_run: timestamp.nullable(),
    last_run: scheduleRunSchema.nullable(),
    last_error: z.string().nullable().meta({ description: 'The same as `last_run.error`.' }),
  })
  .meta({ id: 'Schedule', description: 'A schedule makes a job from its manifest at every fire (README, "Nightly jobs: schedules").' });

export const schedulePageSchema = z.strictObject({ data: z.array(scheduleSchema), next_cursor: nextCursor }).meta({ id: 'SchedulePage' });

/** The body batchscribe POSTs to a job's callback_url, signed per Standard Webhooks. */
export const webhookEventSchema = z
  .strictObject({
    type: z.enum(['job.completed', 'job.completed_with_errors', 'job.failed', 'job.cancelled']),
    timestamp: timestamp.nullable().meta({ description: "The job's finished_at." }),
    data: jobSchema,
  })
  .meta({ id: 'WebhookEvent' });

/*
 * Compile-time drift guards: each schema's type must be exactly the interface the code uses.
 */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const guards: [
  Equals<z.infer<typeof jobSchema>, Job>,
  Equals<z.infer<typeof fileResultSchema>, FileResult>,
  Equals<z.infer<typeof countsSchema>, Counts>,
  Equals<z.infer<typeof errorInfoSchema>, ErrorInfo>,
  Equals<z.infer<typeof webhookStateSchema>, WebhookState>,
  Equals<z.infer<typeof transcriptSchema>, Transcript>,
  Equals<z.infer<typeof channelSchema>, Channel>,
  Equals<z.infer<typeof sentenceSchema>, Sentence>,
  Equals<z.infer<typeof wordSchema>, Word>,
  Equals<z.infer<typeof scheduleSchema>, Schedule>,
] = [true, true, true, true, true, true, true, true, true, true];
void guards;
