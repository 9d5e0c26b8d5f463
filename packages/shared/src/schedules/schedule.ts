import { z } from 'zod';
import { checkHints, jobOptionsShape } from '../domain/requests.js';
import type { JobRequest } from '../intake/create-job.js';
import type { UpstreamOptions } from '../domain/job.js';

/**
 * The `job` part of a schedule: the same options and rules as `POST /v1/jobs`, minus the
 * files (a fire brings those).
 */
export const scheduleJobOptions = z.strictObject(jobOptionsShape).superRefine(checkHints);
export type ScheduleJobOptions = z.infer<typeof scheduleJobOptions>;

/** What one fire did: `job_id` when it made a job, else `error` says why not. */
export interface ScheduleRun {
  at: string;
  job_id: string | null;
  error: string | null;
}

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

/** The Schedule a client sees (README, "Nightly jobs: schedules"). */
export interface Schedule {
  id: string;
  object: 'schedule';
  name: string;
  cron: string;
  timezone: string;
  manifest_url: string | null;
  file_urls: string[] | null;
  job: ScheduleJobOptions;
  created_at: string;
  next_run: string | null;
  last_run: ScheduleRun | null;
  /** Why the last fire made no job (the same as `last_run.error`), else null. */
  last_error: string | null;
}

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
  };
}
