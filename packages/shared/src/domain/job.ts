import type { Transcript } from '../transcript/index.js';

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

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface Counts {
  total: number;
  queued: number;
  submitted: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
}

/** The options passed through to foxapi for every batch of a job. */
export interface UpstreamOptions {
  language_hints?: string[];
  channel_id?: number[];
  recognition?: Record<string, unknown>;
  diarization?: Record<string, unknown>;
}

/** The Job a client sees (README, "HTTP API"). */
export interface Job {
  id: string;
  object: 'transcription.job';
  tenant: string;
  status: JobStatus;
  model: Model;
  name: string | null;
  metadata: Record<string, unknown> | null;
  priority: Priority;
  callback_url: string | null;
  schedule_id: string | null;
  /** The upstream options as given at submit (null when not given). */
  language_hints: string[] | null;
  channel_id: number[] | null;
  recognition: Record<string, unknown> | null;
  diarization: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  counts: Counts;
  batches: Counts;
  progress: number;
  error: ErrorInfo | null;
  webhook: WebhookState | null;
  /** Why queued files are not going out right now (submits paused upstream), else null. */
  waiting_reason: ErrorInfo | null;
}

/** One file's result (README, "HTTP API"). */
export interface FileResult {
  index: number;
  file_url: string;
  ref: string | null;
  status: FileStatus;
  batch: number;
  task_id: string | null;
  transcript: Transcript | null;
  error: ErrorInfo | null;
}

/** One file as stored (short keys: it is stored once per file, 100k times for a large job). */
export interface FileRecord {
  /** url */
  u: string;
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
}

export function toFileResult(index: number, rec: FileRecord, transcript: Transcript | null): FileResult {
  return {
    index,
    file_url: rec.u,
    ref: rec.r ?? null,
    status: rec.s,
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
export function fileResultJson(index: number, rec: FileRecord, transcriptJson: string | null): string {
  const json = JSON.stringify(toFileResult(index, rec, null));
  return transcriptJson === null ? json : json.replace('"transcript":null', () => `"transcript":${transcriptJson}`);
}
