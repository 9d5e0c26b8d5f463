import { z } from 'zod';
import { checkHints, jobOptionsShape } from '../domain/requests.js';
import type { JobRequest } from '../intake/create-job.js';
import { isoTimestamp, type UpstreamOptions } from '../domain/job.js';

/**
 * The `job` part of a schedule: the same options and rules as `POST /v1/jobs`, minus the
 * files (a fire brings those).
 */
export const scheduleJobOptions = z.strictObject(jobOptionsShape).superRefine(checkHints);
export type ScheduleJobOptions = z.infer<typeof scheduleJobOptions>;

/** What one fire did: `job_id` when it made a job, else `error` says why not. */
export const scheduleRunSchema = z.strictObject({
  at: isoTimestamp,
  job_id: z.string().nullable(),
  error: z.string().nullable().meta({ description: 'Why this fire made no job (manifest unreachable, too big, unparsable).' }),
});
export type ScheduleRun = z.infer<typeof scheduleRunSchema>;

/** A schedule as stored (one HASH per schedule). */
export interface ScheduleRecord {
  id: string;
  tenant: string;
  name: string;
  cron: string;
  timezone: string;
  manifestUrl: string | null;
  fileUrls: string[] | null;
  job: ScheduleJobOptions;
  createdAt: string;
  lastRun: ScheduleRun | null;
}

/** The Schedule a client sees; the type is inferred from the schema the OpenAPI document shows. */
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
    created_at: isoTimestamp,
    next_run: isoTimestamp.nullable(),
    last_run: scheduleRunSchema.nullable(),
    last_error: z.string().nullable().meta({ description: 'The same as `last_run.error`.' }),
  })
  .meta({ id: 'Schedule', description: 'A schedule makes a job from its manifest at every fire (README, "Nightly jobs: schedules").' });
export type Schedule = z.infer<typeof scheduleSchema>;

export function scheduleRecordFields(rec: ScheduleRecord): Record<string, string> {
  const fields: Record<string, string> = {
    id: rec.id,
    tenant: rec.tenant,
    name: rec.name,
    cron: rec.cron,
    timezone: rec.timezone,
    job: JSON.stringify(rec.job),
    created_at: rec.createdAt,
  };
  if (rec.manifestUrl !== null) fields.manifest_url = rec.manifestUrl;
  if (rec.fileUrls !== null) fields.file_urls = JSON.stringify(rec.fileUrls);
  if (rec.lastRun !== null) fields.last_run = JSON.stringify(rec.lastRun);
  return fields;
}

export function scheduleFromHash(hash: Record<string, string>): ScheduleRecord {
  return {
    id: hash.id ?? '',
    tenant: hash.tenant ?? '',
    name: hash.name ?? '',
    cron: hash.cron ?? '',
    timezone: hash.timezone ?? 'UTC',
    manifestUrl: hash.manifest_url ?? null,
    fileUrls: hash.file_urls ? (JSON.parse(hash.file_urls) as string[]) : null,
    job: hash.job ? (JSON.parse(hash.job) as ScheduleJobOptions) : { model: 'paraformer-v2' },
    createdAt: hash.created_at ?? '',
    lastRun: hash.last_run ? (JSON.parse(hash.last_run) as ScheduleRun) : null,
  };
}

export function toSchedule(rec: ScheduleRecord, nextRunMs: number | null): Schedule {
  return {
    id: rec.id,
    object: 'schedule',
    name: rec.name,
    cron: rec.cron,
    timezone: rec.timezone,
    manifest_url: rec.manifestUrl,
    file_urls: rec.fileUrls,
    job: rec.job,
    created_at: rec.createdAt,
    next_run: nextRunMs === null ? null : new Date(nextRunMs).toISOString(),
    last_run: rec.lastRun,
    last_error: rec.lastRun?.error ?? null,
  };
}

/** The job one fire makes: the schedule's options, its name unless `job.name` is set. */
export function jobRequestFor(rec: ScheduleRecord, files: JobRequest['files']): JobRequest {
  const { job } = rec;
  const options: UpstreamOptions = {};
  if (job.language_hints) options.language_hints = job.language_hints;
  if (job.channel_id) options.channel_id = job.channel_id;
  if (job.recognition) options.recognition = job.recognition;
  if (job.diarization) options.diarization = job.diarization;
  return {
    files,
    model: job.model,
    options,
    name: job.name ?? rec.name,
    metadata: job.metadata ?? null,
    callbackUrl: job.callback_url ?? null,
    priority: job.priority ?? null,
    reuse: job.reuse ?? false,
  };
}
