import type { Redis } from 'ioredis';
import type { KeyLayout } from '../redis/keys.js';
import type { BatchState, FileRecord } from '../domain/job.js';
import { CLAIM_SUBMIT, FINISH_BATCH, RECORD_SUBMITTED, RELEASE_CLAIM, UPDATE_BATCH_IF_STATE } from './lua.js';
import { wellFormedJson } from '../domain/json-input.js';

/** One batch's intent record, as the worker reads it. */
export interface BatchRecord {
  jobId: string;
  batch: number;
  state: BatchState;
  /** File indexes of the job this batch carries, in submit order. */
  files: number[];
  taskId: string | null;
  /** ms since epoch the task was created. */
  submittedAt: number | null;
  estimatedTimeS: number | null;
  polls: number;
  claim: string | null;
  /** ms since epoch after which a `submitting` claim is presumed dead. */
  leaseUntil: number | null;
  /** While a finished task's transcripts are collected: the outcomes decided (and stored) so far, by file index. */
  collected: Record<number, CollectedOutcome>;
  /** Downloads of a file that came back unusable (not JSON, too large), by file index. */
  unusableTries: Record<number, number>;
}

/** One file's outcome, decided while collecting, kept until the whole batch is recorded. */
export interface CollectedOutcome {
  s: 'completed' | 'failed';
  e?: { code: string; message: string };
}

export type ClaimResult = 'claimed' | 'full' | 'missing' | BatchState;

export interface FileOutcomeRecord {
  index: number;
  record: FileRecord;
}

type ScriptClient = Redis & {
  bsClaimSubmit(batch: string, inflight: string, token: string, leaseUntil: number, max: number): Promise<string>;
  bsReleaseClaim(batch: string, inflight: string, token: string): Promise<number>;
  bsRecordSubmitted(job: string, batch: string, files: string, ...args: (string | number)[]): Promise<number>;
  bsFinishBatch(job: string, batch: string, files: string, inflight: string, ...args: (string | number)[]): Promise<number>;
  bsUpdateBatchIfState(batch: string, expected: string, ...fieldsAndValues: string[]): Promise<number>;
};

function defineScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient;
  if (typeof client.bsClaimSubmit !== 'function') {
    redis.defineCommand('bsClaimSubmit', { numberOfKeys: 2, lua: CLAIM_SUBMIT });
    redis.defineCommand('bsReleaseClaim', { numberOfKeys: 2, lua: RELEASE_CLAIM });
    redis.defineCommand('bsRecordSubmitted', { numberOfKeys: 3, lua: RECORD_SUBMITTED });
    redis.defineCommand('bsFinishBatch', { numberOfKeys: 4, lua: FINISH_BATCH });
    redis.defineCommand('bsUpdateBatchIfState', { numberOfKeys: 1, lua: UPDATE_BATCH_IF_STATE });
  }
  return client;
}

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

/**
 * The worker's view of batches: every state change goes through one of the atomic scripts,
 * guarded by the state it expects, so replays and racing processors are harmless.
 */
export class BatchStore {
  private readonly redis: ScriptClient;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
    private readonly retentionS: number,
  ) {
    this.redis = defineScripts(redis);
  }

  async get(jobId: string, batch: number): Promise<BatchRecord | null> {
    const h = await this.redis.hgetall(this.keys.batch(jobId, batch));
    if (!h.state) return null;
    return {
      jobId,
      batch,
      state: h.state as BatchState,
      files: JSON.parse(h.files ?? '[]') as number[],
      taskId: h.task_id ?? null,
      submittedAt: num(h.submitted_at),
      estimatedTimeS: num(h.estimated_time_s),
      polls: Number(h.polls ?? 0),
      claim: h.claim ?? null,
      leaseUntil: num(h.lease_until),
      collected: h.collected ? (JSON.parse(h.collected) as Record<number, CollectedOutcome>) : {},
      unusableTries: h.unusable_tries ? (JSON.parse(h.unusable_tries) as Record<number, number>) : {},
    };
  }

  /**
   * Keeps what a collect step decided (its transcripts already stored), so the next attempt
   * downloads only the rest. Written only while the batch is still `submitted`.
   */
  async saveCollectProgress(
    jobId: string,
    batch: number,
    collected: Record<number, CollectedOutcome>,
    unusableTries: Record<number, number>,
  ): Promise<boolean> {
    const written = await this.redis.bsUpdateBatchIfState(
      this.keys.batch(jobId, batch),
      'submitted',
      'collected',
      JSON.stringify(collected),
      'unusable_tries',
      JSON.stringify(unusableTries),
    );
    return written === 1;
  }

  async readFiles(jobId: string, indexes: number[]): Promise<FileRecord[]> {
    if (indexes.length === 0) return [];
    const raw = await this.redis.hmget(this.keys.files(jobId), ...indexes.map(String));
    return raw.map((r, i) => {
      if (r === null) throw new Error(`file ${indexes[i]} of job ${jobId} is missing`);
      return JSON.parse(r) as FileRecord;
    });
  }

  claimSubmit(jobId: string, batch: number, token: string, leaseUntil: number, maxInflight: number): Promise<ClaimResult> {
    const key = this.keys.batch(jobId, batch);
    return this.redis.bsClaimSubmit(key, this.keys.inflight, token, leaseUntil, maxInflight) as Promise<ClaimResult>;
  }

  async releaseClaim(jobId: string, batch: number, token: string): Promise<boolean> {
    return (await this.redis.bsReleaseClaim(this.keys.batch(jobId, batch), this.keys.inflight, token)) === 1;
  }

  async recordSubmitted(
    jobId: string,
    batch: number,
    token: string,
    fields: Record<string, string | number>,
    files: FileOutcomeRecord[],
  ): Promise<boolean> {
    const args = files.flatMap((f) => [String(f.index), wellFormedJson(f.record)]);
    const ok = await this.redis.bsRecordSubmitted(
      this.keys.job(jobId),
      this.keys.batch(jobId, batch),
      this.keys.files(jobId),
      token,
      new Date().toISOString(),
      JSON.stringify(fields),
      ...args,
    );
    if (ok === 1) await this.redis.publish(this.keys.jobEvents, jobId);
    return ok === 1;
  }

  /**
   * Moves the batch to a terminal state with every file's outcome, and settles the job when it
   * was the last open batch. Returns false when the batch was not in one of `expected` states.
   */
  async finish(
    jobId: string,
    batch: number,
    expected: BatchState[],
    next: 'completed' | 'failed' | 'cancelled',
    files: FileOutcomeRecord[],
    fields: Record<string, string | number> = {},
  ): Promise<boolean> {
    const args = files.flatMap((f) => [String(f.index), wellFormedJson(f.record), f.record.s]);
    const res = await this.redis.bsFinishBatch(
      this.keys.job(jobId),
      this.keys.batch(jobId, batch),
      this.keys.files(jobId),
      this.keys.inflight,
      expected.join(','),
      next,
      new Date().toISOString(),
      this.retentionS,
      this.keys.jobKeyPrefix(jobId),
      JSON.stringify(fields),
      this.keys.jobEvents,
      jobId,
      ...args,
    );
    return res === 1;
  }

  async incrementPolls(jobId: string, batch: number): Promise<void> {
    await this.redis.hincrby(this.keys.batch(jobId, batch), 'polls', 1);
  }
}
