import { z } from 'zod';
import { transcriptSchema, type Transcript } from '../transcript/normalize.js';

export const MODELS = ['paraformer-v2', 'paraformer-8k-v2'] as const;
export type Model = (typeof MODELS)[number];

export const LANGUAGE_HINTS = ['zh', 'en', 'ja', 'yue', 'ko', 'de', 'fr', 'ru'] as const;

export const JOB_STATUSES = ['queued', 'running', 'cancelling', 'completed', 'completed_with_errors', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

export const FILE_STATUSES = ['queued', 'submitted', 'completed', 'failed', 'cancelled'] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

/** A batch's intent record moves queued → submitting → submitted → completed | failed | cancelled. */
export const BATCH_STATES = ['queued', 'submitting', 'submitted', 'completed', 'failed', 'cancelled'] as const;
export type BatchState = (typeof BATCH_STATES)[number];

export type Priority = 'interactive' | 'bulk';

/** The options passed through to foxapi for every batch of a job. */
export interface UpstreamOptions {
  language_hints?: string[];
  channel_id?: number[];
  recognition?: Record<string, unknown>;
  diarization?: Record<string, unknown>;
}

export const JOB_ID_PATTERN = /^job_[0-9a-z]{26}$/;

/** ISO-8601 with an offset, as every time in the API. */
export const isoTimestamp = z.iso
  .datetime({ offset: true })
  .meta({ description: 'ISO-8601 date-time.', example: '2026-11-02T08:30:00.000Z' });

export const errorInfoSchema = z
  .strictObject({
    code: z.string().meta({ description: 'Stable machine-readable code, e.g. `upstream_auth`, `upstream_timeout`.' }),
    message: z.string(),
  })
  .meta({ id: 'ErrorInfo' });
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

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
export type Counts = z.infer<typeof countsSchema>;

export const webhookStateSchema = z
  .strictObject({
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int().min(0),
    last_error: z.string().nullable(),
  })
  .meta({ id: 'WebhookState' });
export type WebhookState = z.infer<typeof webhookStateSchema>;

export const jobUsageSchema = z
  .strictObject({
    audio_seconds: z.number().min(0).meta({
      description: "Sum of the durations of the job's transcribed files, as upstream reports them (`original_duration_in_milliseconds`).",
    }),
    billed_seconds: z
      .number()
      .min(0)
      .nullable()
      .meta({ description: "What foxapi reported as billed for the job's tasks (`usage.duration`); null while it reported nothing." }),
    reused_files: z.number().int().min(0).meta({ description: 'Files completed from an earlier transcript, with no foxapi call.' }),
  })
  .meta({
    id: 'JobUsage',
    description: 'What the job cost so far, updated in the same step as `counts`: it never includes files not yet completed.',
  });
export type JobUsage = z.infer<typeof jobUsageSchema>;

/** The Job every endpoint answers with; the type is inferred from the schema the OpenAPI document shows. */
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
    created_at: isoTimestamp,
    updated_at: isoTimestamp,
    finished_at: isoTimestamp.nullable(),
    counts: countsSchema.meta({ description: 'Files by status.' }),
    batches: countsSchema.meta({ description: 'Batches (foxapi tasks) by status.' }),
    progress: z.number().int().min(0).max(100).meta({
      description:
        'Share of files that have ended, whatever the outcome: (completed + failed + cancelled) / total, floored. It is not the share transcribed: `counts` tells transcribed, failed and cancelled files apart.',
    }),
    error: errorInfoSchema.nullable().meta({ description: 'Job-level failure (e.g. upstream_auth).' }),
    webhook: webhookStateSchema.nullable(),
    waiting_reason: errorInfoSchema.nullable().meta({
      description:
        'Why queued files are not going out right now: `upstream_insufficient_quota`, `upstream_auth` (submits paused upstream), `upstream_unreachable`, `budget_exhausted` (the tenant used its monthly TENANT_BUDGETS hours).',
    }),
    reuse: z.boolean().meta({
      description:
        'As given at submit: files this tenant already had transcribed (same URL or upload content, model and options) within JOB_RETENTION_S are completed from that transcript, with no foxapi call.',
    }),
    usage: jobUsageSchema,
  })
  .meta({ id: 'Job', description: 'A transcription job.' });
export type Job = z.infer<typeof jobSchema>;

export const fileResultSchema = z
  .strictObject({
    index: z.number().int().min(0).meta({ description: 'Position in the submitted `file_urls`/`files`.' }),
    file_url: z.string().nullable().meta({ description: 'The URL given, for a URL input; null for a file from an upload.' }),
    upload_id: z.string().nullable().meta({ description: 'The upload (`upl_…`) a file from an upload came from; null for a URL input.' }),
    filename: z.string().nullable().meta({ description: "The upload's filename, for a file from an upload; null for a URL input." }),
    ref: z.string().nullable().meta({ description: "The caller's own id, echoed." }),
    status: z.enum(FILE_STATUSES),
    reused_from: z
      .strictObject({ job_id: z.string(), index: z.number().int().min(0) })
      .nullable()
      .meta({
        description:
          'Set when the file was completed from an earlier transcript (`reuse`), with no foxapi call: the job and file that transcribed it, whose transcript this result reads.',
      }),
    batch: z.number().int().min(0),
    task_id: z.string().nullable(),
    transcript: transcriptSchema.nullable(),
    error: errorInfoSchema.nullable(),
  })
  .meta({ id: 'FileResult' });
export type FileResult = z.infer<typeof fileResultSchema>;

/** One file as stored (short keys: it is stored once per file, 100k times for a large job). */
export interface FileRecord {
  /** url (a URL input) */
  u?: string;
  /** upload id (a file from an upload; then `u` is absent) */
  up?: string;
  /** the upload's filename */
  fn?: string;
  /** the upload's sha256 */
  h?: string;
  /** caller's ref */
  r?: string;
  /** batch number */
  b: number;
  /** status */
  s: FileStatus;
  /** foxapi task id */
  t?: string;
  /** error */
  e?: ErrorInfo;
  /** reused from: the job and file whose transcript this file was completed with (`reuse`), with no foxapi call */
  rf?: { j: string; i: number };
  /** leader: in a `reuse` job, the first file of the job with the same recording (this one waits for it rather than pay again) */
  ld?: number;
}

export function toFileResult(index: number, rec: FileRecord, transcript: Transcript | null): FileResult {
  return {
    index,
    file_url: rec.u ?? null,
    upload_id: rec.up ?? null,
    filename: rec.fn ?? null,
    ref: rec.r ?? null,
    status: rec.s,
    reused_from: rec.rf ? { job_id: rec.rf.j, index: rec.rf.i } : null,
    batch: rec.b,
    task_id: rec.t ?? null,
    transcript,
    error: rec.e ?? null,
  };
}

/**
 * A FileResult as JSON text with `transcriptJson` (the normalized transcript's JSON, as stored)
 * set in as text, so serving an hour-long transcript costs no parse and no re-serialization.
 * Safe: in JSON.stringify's output the unescaped `"transcript":null` can only be the key itself
 * (any such text inside a string value has its quotes escaped).
 */
/** Where the transcript of file `index` of `jobId` is stored: its own, or for a reused file the one of the job that transcribed it. */
export function transcriptLocation(jobId: string, index: number, rec: FileRecord): { jobId: string; index: number } {
  return rec.rf ? { jobId: rec.rf.j, index: rec.rf.i } : { jobId, index };
}

export function fileResultJson(index: number, rec: FileRecord, transcriptJson: string | null): string {
  const json = JSON.stringify(toFileResult(index, rec, null));
  return transcriptJson === null ? json : json.replace('"transcript":null', () => `"transcript":${transcriptJson}`);
}
