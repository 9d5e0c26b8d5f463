import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '../redis/keys.js';
import type { BatchJobPayload } from '../queues.js';
import type { FileRecord, Job, Model, Priority, UpstreamOptions } from '../domain/job.js';
import { jobFromHash, jobRecordFields } from '../domain/job-record.js';
import { newJobId } from '../domain/ids.js';
import { enqueueBatches } from './enqueue-batches.js';

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
  idempotency?: { key: string; value: (jobId: string) => string };
}

/** Oldest entries of a tenant's job index looked at per new job (see PRUNE_TENANT_INDEX). */
const PRUNE_PER_JOB = 10;

/**
 * A tenant's job index holds every job id it made; a job's keys expire after JOB_RETENTION_S but
 * a ZSET member cannot. Ids sort by creation time, so the oldest entries are the ones expired:
 * each new job drops the expired among the oldest few, and the index stays about as large as
 * the tenant's jobs still retained, whether or not the tenant ever lists them.
 * KEYS: tenant index. ARGV: job key prefix, how many to look at. Returns the number dropped.
 */
const PRUNE_TENANT_INDEX = `
local removed = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], '-', '+', 'BYLEX', 'LIMIT', 0, tonumber(ARGV[2]))) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    removed = removed + 1
  end
end
return removed
`;

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

  const multi = deps.redis.multi();
  multi.hset(deps.keys.job(id), record);
  for (const [b, indexes] of batches.entries()) {
    const fields: string[] = [];
    for (const index of indexes) {
      const file = req.files[index]!;
      const rec: FileRecord = file.ref === undefined ? { u: file.url, b, s: 'queued' } : { u: file.url, r: file.ref, b, s: 'queued' };
      fields.push(String(index), JSON.stringify(rec));
    }
    multi.hset(deps.keys.files(id), ...(fields as [string, string]));
    multi.hset(deps.keys.batch(id, b), { state: 'queued', files: JSON.stringify(indexes) });
  }
  multi.zadd(deps.keys.tenantJobs(tenant), 0, id);
  multi.zadd(deps.keys.intakePending, now.getTime(), id);
  if (extra.idempotency) multi.set(extra.idempotency.key, extra.idempotency.value(id), 'KEEPTTL');
  const result = await multi.exec();
  const failed = result?.find(([err]) => err);
  if (!result || failed) throw failed?.[0] ?? new Error('job write was aborted');

  await enqueueBatches(
    deps.queue,
    id,
    batches.map((_, b) => b),
    priority,
  );
  await deps.redis.zrem(deps.keys.intakePending, id);
  await deps.redis.publish(deps.keys.jobEvents, id);
  await deps.redis.eval(PRUNE_TENANT_INDEX, 1, deps.keys.tenantJobs(tenant), deps.keys.job(''), PRUNE_PER_JOB);
  return jobFromHash(record);
}
