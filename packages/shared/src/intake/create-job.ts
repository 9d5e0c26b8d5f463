import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '../store/keys.js';
import type { BatchJobPayload } from '../queues.js';
import type { Job, Model, Priority, UpstreamOptions } from '../domain/job.js';
import { jobFromHash, jobRecordFields } from '../domain/job-record.js';
import { newJobId } from '../domain/ids.js';
import { enqueueBatches, enqueueFanOut } from './enqueue-batches.js';
import { confirmJobEnqueued, intakeOf, writeNewJob } from '../store/jobs.js';
import type { ClaimHandle } from '../store/claims.js';
import { UrlListBytes, type JobFiles } from '../store/url-list-bytes.js';

/**
 * Job creation, shared by the api's intake and the worker's schedule fires, so a job made by
 * a schedule is written exactly like one made by `POST /v1/jobs`.
 */

/** A validated request for a new job, whichever way it arrived (HTTP body, text list, manifest). */
export interface JobRequest {
  /** URL inputs, and files from ready uploads of the tenant (the api resolved them), or a URL list still in its request's bytes. */
  files: JobFiles;
  model: Model;
  options: UpstreamOptions;
  name: string | null;
  metadata: Record<string, unknown> | null;
  callbackUrl: string | null;
  priority: Priority | null;
  /** Complete files this tenant already had transcribed from that transcript (README, "Costs"); default false. */
  reuse?: boolean;
}

export interface CreateJobDeps {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<BatchJobPayload>;
  batchSize: number;
  clock?: () => Date;
}

export interface CreateJobExtra {
  scheduleId?: string;
  /** Written in the same MULTI as the job, so a replay can never see a key without its job. */
  idempotency?: ClaimHandle;
  /**
   * When the request's uploads were found ready (UploadStore.resolveReady): they are attached
   * to the job in its MULTI as of that instant, so one that reached its TTL since is still taken.
   */
  uploadsCheckedAt?: number;
}

function countUploads(files: JobFiles): number {
  if (files instanceof UrlListBytes) return 0;
  let n = 0;
  for (const f of files) if (f.upload !== undefined) n++;
  return n;
}

export function chunkIndexes(total: number, size: number): number[][] {
  const batches: number[][] = [];
  for (let start = 0; start < total; start += size) {
    batches.push(Array.from({ length: Math.min(size, total - start) }, (_, k) => start + k));
  }
  return batches;
}

/**
 * Writes the job, its files and its batch records in one MULTI (all or nothing: a request that
 * dies before EXEC leaves no trace), then enqueues the batches. The job sits in the intake
 * pending set until the enqueue is done, so if this process dies in between, the worker's
 * intake sweeper enqueues what is missing.
 */
export async function createJob(deps: CreateJobDeps, tenant: string, req: JobRequest, extra: CreateJobExtra = {}): Promise<Job> {
  const now = (deps.clock ?? (() => new Date()))();
  const id = newJobId(now.getTime());
  const batches = Math.ceil(req.files.length / deps.batchSize);
  const priority = req.priority ?? (batches <= 1 ? 'interactive' : 'bulk');
  const record = jobRecordFields({
    id,
    tenant,
    model: req.model,
    name: req.name,
    metadata: req.metadata,
    priority,
    callbackUrl: req.callbackUrl,
    scheduleId: extra.scheduleId ?? null,
    options: req.options,
    createdAt: now.toISOString(),
    files: req.files.length,
    batches,
    reuse: req.reuse === true,
    uploads: countUploads(req.files),
  });

  await writeNewJob(deps.redis, deps.keys, {
    id,
    tenant,
    record,
    files: req.files,
    page: deps.batchSize,
    createdMs: now.getTime(),
    reuse: req.reuse === true,
    ...(extra.idempotency ? { claim: extra.idempotency } : {}),
    uploadsCheckedAt: extra.uploadsCheckedAt ?? now.getTime(),
  });

  if (batches <= DIRECT_ENQUEUE_MAX_BATCHES) {
    await enqueueBatches(
      deps.queue,
      id,
      Array.from({ length: batches }, (_, b) => b),
      priority,
    );
    await confirmJobEnqueued(deps.redis, deps.keys, id, tenant);
  } else {
    // The 202 waits for one enqueue, not a thousand: a worker fans the batches out.
    await enqueueFanOut(deps.queue, id);
  }
  return jobFromHash(record);
}

/**
 * Up to this many batches, the request enqueues them itself (an interactive job's first batch
 * is on the queue when the 202 leaves); beyond, it enqueues one fan-out job. Either way the
 * job stays in the intake pending set until every batch is queued, so the intake sweeper
 * finishes what a crash interrupted.
 */
export const DIRECT_ENQUEUE_MAX_BATCHES = 10;

/**
 * The fan-out job's work: every batch of the job written at intake goes on the queue
 * (idempotently: ids are deterministic), then the job leaves the intake pending set.
 * Returns how many batches it enqueued, or null when the job is gone.
 */
export async function fanOutBatches(deps: Pick<CreateJobDeps, 'redis' | 'keys' | 'queue'>, jobId: string): Promise<number | null> {
  const intake = await intakeOf(deps.redis, deps.keys, jobId);
  if (intake === null) return null;
  await enqueueBatches(
    deps.queue,
    jobId,
    Array.from({ length: intake.batches }, (_, b) => b),
    intake.priority,
  );
  await confirmJobEnqueued(deps.redis, deps.keys, jobId, intake.tenant);
  return intake.batches;
}
