import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '../store/keys.js';
import type { BatchJobPayload } from '../queues.js';
import type { FileRecord, Job, Model, Priority, UpstreamOptions } from '../domain/job.js';
import { jobFromHash, jobRecordFields } from '../domain/job-record.js';
import { newJobId } from '../domain/ids.js';
import { enqueueBatches } from './enqueue-batches.js';
import { confirmJobEnqueued, writeNewJob } from '../store/jobs.js';
import type { ClaimHandle } from '../store/claims.js';

/**
 * Job creation, shared by the api's intake and the worker's schedule fires, so a job made by
 * a schedule is written exactly like one made by `POST /v1/jobs`.
 */

/** A validated request for a new job, whichever way it arrived (HTTP body, text list, manifest). */
export interface JobRequest {
  files: Array<{ url: string; ref?: string }>;
  model: Model;
  options: UpstreamOptions;
  name: string | null;
  metadata: Record<string, unknown> | null;
  callbackUrl: string | null;
  priority: Priority | null;
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
  const batches = chunkIndexes(req.files.length, deps.batchSize);
  const priority = req.priority ?? (batches.length <= 1 ? 'interactive' : 'bulk');
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
    batches: batches.length,
  });

  await writeNewJob(deps.redis, deps.keys, {
    id,
    tenant,
    record,
    batches: batches.map((indexes, b) =>
      indexes.map((index): FileRecord => {
        const file = req.files[index]!;
        return file.ref === undefined ? { u: file.url, b, s: 'queued' } : { u: file.url, r: file.ref, b, s: 'queued' };
      }),
    ),
    firstIndex: batches.map((indexes) => indexes[0] ?? 0),
    createdMs: now.getTime(),
    ...(extra.idempotency ? { claim: extra.idempotency } : {}),
  });

  await enqueueBatches(
    deps.queue,
    id,
    batches.map((_, b) => b),
    priority,
  );
  await confirmJobEnqueued(deps.redis, deps.keys, id, tenant);
  return jobFromHash(record);
}
