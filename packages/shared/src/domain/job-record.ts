import type { Counts, ErrorInfo, Job, JobStatus, Model, Priority, UpstreamOptions, WebhookState } from './job.js';

/** Field names of the job HASH's counters: f_* for files, b_* for batches. */
export const COUNT_NAMES = ['total', 'queued', 'submitted', 'completed', 'failed', 'cancelled'] as const;

/** The job HASH as written at creation (all values strings, as Redis keeps them). */
export interface NewJobRecord {
  id: string;
  tenant: string;
  model: Model;
  name: string | null;
  metadata: Record<string, unknown> | null;
  priority: Priority;
  callbackUrl: string | null;
  scheduleId: string | null;
  options: UpstreamOptions;
  createdAt: string;
  files: number;
  batches: number;
  /** `reuse` asked at submit (stored only when true). */
  reuse?: boolean;
  /** How many of the files come from uploads (their media is released when the job ends). */
  uploads?: number;
}

export function jobRecordFields(rec: NewJobRecord): Record<string, string> {
  const fields: Record<string, string> = {
    id: rec.id,
    tenant: rec.tenant,
    status: 'queued',
    model: rec.model,
    priority: rec.priority,
    options: JSON.stringify(rec.options),
    created_at: rec.createdAt,
    updated_at: rec.createdAt,
  };
  if (rec.name !== null) fields.name = rec.name;
  if (rec.metadata !== null) fields.metadata = JSON.stringify(rec.metadata);
  if (rec.callbackUrl !== null) fields.callback_url = rec.callbackUrl;
  if (rec.scheduleId !== null) fields.schedule_id = rec.scheduleId;
  if (rec.reuse) fields.reuse = '1';
  if (rec.uploads) fields.uploads = String(rec.uploads);
  for (const name of COUNT_NAMES) {
    fields[`f_${name}`] = String(name === 'total' || name === 'queued' ? rec.files : 0);
    fields[`b_${name}`] = String(name === 'total' || name === 'queued' ? rec.batches : 0);
  }
  return fields;
}

function counts(hash: Record<string, string>, prefix: 'f' | 'b'): Counts {
  const n = (name: string) => Number(hash[`${prefix}_${name}`] ?? 0);
  return {
    total: n('total'),
    queued: n('queued'),
    submitted: n('submitted'),
    completed: n('completed'),
    failed: n('failed'),
    cancelled: n('cancelled'),
  };
}

function json<T>(raw: string | undefined): T | null {
  return raw === undefined || raw === '' ? null : (JSON.parse(raw) as T);
}

/** Builds the Job a client sees from its HASH: O(1), the counts are maintained, never scanned. */
export function jobFromHash(hash: Record<string, string>): Job {
  const files = counts(hash, 'f');
  const options = upstreamOptionsFromHash(hash);
  const done = files.completed + files.failed + files.cancelled;
  return {
    id: hash.id ?? '',
    object: 'transcription.job',
    tenant: hash.tenant ?? '',
    status: (hash.status ?? 'queued') as JobStatus,
    model: (hash.model ?? 'paraformer-v2') as Model,
    name: hash.name ?? null,
    metadata: json<Record<string, unknown>>(hash.metadata),
    priority: (hash.priority ?? 'bulk') as Priority,
    callback_url: hash.callback_url ?? null,
    schedule_id: hash.schedule_id ?? null,
    language_hints: options.language_hints ?? null,
    channel_id: options.channel_id ?? null,
    recognition: options.recognition ?? null,
    diarization: options.diarization ?? null,
    created_at: hash.created_at ?? '',
    updated_at: hash.updated_at ?? hash.created_at ?? '',
    finished_at: hash.finished_at ?? null,
    counts: files,
    batches: counts(hash, 'b'),
    progress: files.total === 0 ? 0 : Math.floor((done * 100) / files.total),
    error: json<ErrorInfo>(hash.error),
    webhook: json<WebhookState>(hash.webhook),
    waiting_reason: null,
    reuse: hash.reuse === '1',
    usage: {
      audio_seconds: Number(hash.u_audio_ms ?? 0) / 1000,
      billed_seconds: hash.u_billed_ms === undefined ? null : Number(hash.u_billed_ms) / 1000,
      reused_files: Number(hash.u_reused ?? 0),
    },
  };
}

const PAUSE_MESSAGES: Record<string, string> = {
  upstream_insufficient_quota: 'foxapi reports an insufficient balance (402): submits are paused until it is topped up; nothing is failed.',
  upstream_auth: 'foxapi rejected the API key (401): submits are paused until the key is fixed.',
};

/** A worker holds the tenant's batches for its monthly budget (store/usage.ts, BudgetHold). */
export interface BudgetHoldInfo {
  month: string;
  hours: number;
  usedHours: number;
}

const hoursText = (h: number): string => String(Math.round(h * 100) / 100);

/**
 * Why a job's files wait, if they are held: submits paused (402/401) and the job still has
 * queued files; the tenant's monthly budget used up and the job still has queued files; or
 * foxapi unreachable from the workers while the job has files queued or at foxapi (their
 * submits and polls are retried until it answers again).
 */
export function waitingReason(
  job: Job,
  pause: string | null,
  upstream: { code: string; message: string } | null = null,
  budget: BudgetHoldInfo | null = null,
): ErrorInfo | null {
  if (job.finished_at !== null) return null;
  if (pause !== null && job.counts.queued > 0) {
    return { code: pause, message: PAUSE_MESSAGES[pause] ?? `Submits to foxapi are paused (${pause}).` };
  }
  if (budget !== null && job.counts.queued > 0) {
    return {
      code: 'budget_exhausted',
      message: `Tenant ${job.tenant} has used ${hoursText(budget.usedHours)} of its ${hoursText(budget.hours)} audio hours for ${budget.month} (TENANT_BUDGETS): queued files wait until the month turns or the budget is raised; nothing is failed.`,
    };
  }
  if (upstream?.code === 'upstream_unreachable' && job.counts.queued + job.counts.submitted > 0) {
    return { code: upstream.code, message: `${upstream.message} Files wait and are sent when it answers again.` };
  }
  return null;
}

export function upstreamOptionsFromHash(hash: Record<string, string>): UpstreamOptions {
  return json<UpstreamOptions>(hash.options) ?? {};
}
