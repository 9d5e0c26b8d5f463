import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import type { BatchState, ErrorInfo, FileRecord } from '../domain/job.js';
import type { WriteDurability } from '../redis/durability.js';
import {
  CLAIM_SUBMIT,
  CLEAR_OWN_PENDING,
  COUNT_BACKOFF,
  FINISH_BATCH,
  HAS_FREE_SLOT,
  RECORD_SUBMITTED,
  RELEASE_CLAIM,
  REUSE_SPLIT,
  UPDATE_BATCH_IF_STATE,
} from './batch-scripts.js';
import { wellFormedJson } from '../domain/json-input.js';
import { DamagedRecordError } from '../domain/errors.js';
import { scriptRefusal, withScripts } from './commands.js';
import { HOME_FIELDS, homeFieldsFrom, homeOf, reuseIdentity, unpackHome, viaBatches } from './file-entries.js';
import { finishUsage, type BatchUsage } from './usage.js';
import { ReuseIndex } from './reuse-index.js';
import { reuseFingerprint, type ReuseSource } from '../domain/reuse.js';
import { upstreamOptionsFromHash } from '../domain/job-record.js';

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
  /** How the batch's files from uploads go to foxapi, by position in `files` (mediaFields). */
  media: Record<number, MediaEntry>;
}

/**
 * How one file from an upload goes to foxapi (MEDIA_HANDOFF; apps/worker/src/pipeline/media-handoff.ts),
 * kept in its batch's record as field `m:<position>` (one field each, so two attempts racing on
 * one batch never overwrite each other's other files):
 * - `{u, at}`: the URL submitted for it (foxapi's file URL, or a pre-signed one) and when it was made;
 * - `{e}`: it cannot be sent; the file fails with this error when the batch ends;
 * - `{n}`: sending it to foxapi failed transiently this many times so far.
 */
export type MediaEntry = { u: string; at: number } | { e: ErrorInfo } | { n: number };

const MEDIA_FIELD = 'm:';

/** The batch-record fields that keep these media entries. */
export function mediaFields(entries: Readonly<Record<number, MediaEntry>>): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).map(([k, e]) => [`${MEDIA_FIELD}${k}`, JSON.stringify(e)]));
}

function mediaOf(h: Record<string, string>): Record<number, MediaEntry> {
  const media: Record<number, MediaEntry> = {};
  for (const [field, value] of Object.entries(h)) {
    if (field.startsWith(MEDIA_FIELD)) media[Number(field.slice(MEDIA_FIELD.length))] = JSON.parse(value) as MediaEntry;
  }
  return media;
}

/** One file's outcome, decided while collecting, kept until the whole batch is recorded. */
export interface CollectedOutcome {
  s: 'completed' | 'failed';
  e?: { code: string; message: string };
  /** A completed file's duration, ms, when its transcript gives one (counted in usage at the batch's end). */
  d?: number;
}

/** `unconfirmed`: claimed, but not made durable in time (see WriteDurability), so released again. */
export type ClaimResult = 'claimed' | 'full' | 'missing' | 'unconfirmed' | 'cancelling' | BatchState;

/**
 * `recorded`: the claim was ours. `recovered`: the claim had vanished (Redis lost its write) and
 * the batch was still queued, so the task id was recorded all the same. `lost`: another attempt
 * owns the batch or it moved on; this task is orphaned.
 */
export type RecordOutcome = 'recorded' | 'recovered' | 'lost';

export interface FileOutcomeRecord {
  index: number;
  record: FileRecord;
}

/**
 * How a queued batch's files split before it is submitted (docs/architecture.md, "Reuse"), every
 * one of `expected` (the batch's files as read, in order) in exactly one of the three lists.
 */
export interface ReusePlan {
  expected: number[];
  /** Completed now from the transcript of `source`. */
  reused: Array<{ index: number; source: ReuseSource }>;
  /** Waiting for an earlier file of the same job, still at foxapi. */
  deferred: number[];
  /** Submitted now, in this order. */
  rest: number[];
  /** The worker's clock (ms): the day the reused files count on, and the intake entry of a new batch. */
  at: number;
}

export type ReuseSplitOutcome =
  /** `ended`: nothing was left to submit; `created`: the new batch that holds the deferred files, to enqueue. */
  | { kind: 'ok'; ended: boolean; created: number | null }
  /** The batch moved on, or carries other files than planned for: read it again. */
  | { kind: 'moved' }
  | { kind: 'cancelling' }
  /** The job's intake (or a retry) is still enqueueing its batches: a new batch waits for it; nothing changed. */
  | { kind: 'intake' }
  | { kind: 'gone' }
  /** These source jobs may not be read any more (deleted, being deleted): nothing changed. */
  | { kind: 'invalid'; sources: string[] };

interface BatchScripts {
  bsClaimSubmit(batch: string, inflight: string, job: string, token: string, leaseMs: number, max: number): Promise<string>;
  bsReleaseClaim(batch: string, inflight: string, token: string): Promise<number>;
  bsRecordSubmitted(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  bsCountBackoff(batch: string): Promise<number>;
  bsHasFreeSlot(batch: string, inflight: string, max: number): Promise<number>;
  bsFinishBatch(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  bsUpdateBatchIfState(batch: string, expected: string, ...fieldsAndValues: string[]): Promise<number>;
  bsReuseSplit(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  bsClearOwnPending(pending: string, jobId: string, score: number): Promise<number>;
}
type ScriptClient = Redis & BatchScripts;

/** The batch scripts on a connection, for tests that call one with arguments the store would never send. */
export function batchScripts(redis: Redis): ScriptClient {
  return defineScripts(redis);
}

function defineScripts(redis: Redis): ScriptClient {
  return withScripts<BatchScripts>(redis, {
    bsClaimSubmit: { keys: 3, lua: CLAIM_SUBMIT },
    bsReleaseClaim: { keys: 2, lua: RELEASE_CLAIM },
    bsRecordSubmitted: { lua: RECORD_SUBMITTED },
    bsCountBackoff: { keys: 1, lua: COUNT_BACKOFF },
    bsHasFreeSlot: { keys: 2, lua: HAS_FREE_SLOT },
    bsFinishBatch: { lua: FINISH_BATCH },
    bsUpdateBatchIfState: { keys: 1, lua: UPDATE_BATCH_IF_STATE },
    bsReuseSplit: { lua: REUSE_SPLIT },
    bsClearOwnPending: { keys: 1, lua: CLEAR_OWN_PENDING },
  });
}

/** How often finish re-reads the job's batch count when a retry added batches meanwhile. */
const STALE_RETRIES = 3;

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

/**
 * The worker's view of batches: every state change goes through one of the atomic scripts,
 * guarded by the state it expects, so replays and racing processors are harmless.
 */
export class BatchStore {
  private readonly redis: ScriptClient;
  /** Where the claim and the task id are written: the durability's own connection, when enabled. */
  private readonly submitRedis: ScriptClient;
  /** The tenants' reuse indexes: every finish teaches its completed files. */
  readonly reuse: ReuseIndex;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
    private readonly retentionS: number,
    private readonly durability: WriteDurability | null = null,
  ) {
    this.redis = defineScripts(redis);
    this.submitRedis = durability?.enabled ? defineScripts(durability.connection) : this.redis;
    this.reuse = new ReuseIndex(redis, keys, retentionS);
  }

  async get(jobId: string, batch: number): Promise<BatchRecord | null> {
    const h = await this.redis.hgetall(this.keys.batch(jobId, batch));
    if (!h.state) return null;
    return {
      jobId,
      batch,
      state: h.state as BatchState,
      files: batchFileIndexes(h),
      taskId: h.task_id ?? null,
      submittedAt: num(h.submitted_at),
      estimatedTimeS: num(h.estimated_time_s),
      polls: Number(h.polls ?? 0),
      claim: h.claim ?? null,
      leaseUntil: num(h.lease_until),
      collected: h.collected ? (JSON.parse(h.collected) as Record<number, CollectedOutcome>) : {},
      unusableTries: h.unusable_tries ? (JSON.parse(h.unusable_tries) as Record<number, number>) : {},
      media: mediaOf(h),
    };
  }

  /**
   * Keeps how files of a batch go to foxapi (MediaEntry), written only while the batch is still
   * `queued`: once claimed, what the submit sends is fixed, and a late attempt cannot change it.
   */
  async saveMedia(jobId: string, batch: number, entries: Readonly<Record<number, MediaEntry>>): Promise<boolean> {
    const fields = Object.entries(mediaFields(entries)).flat();
    if (fields.length === 0) return true;
    return (await this.redis.bsUpdateBatchIfState(this.keys.batch(jobId, batch), 'queued', ...fields)) === 1;
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

  /** The records of these files of the job, in the order asked (read from their home batches, file-entries.ts). */
  async readFiles(jobId: string, indexes: number[]): Promise<FileRecord[]> {
    if (indexes.length === 0) return [];
    return readFileRecords(this.redis, this.keys, jobId, indexes);
  }

  /**
   * queued → submitting for `leaseMs` (timed by Redis's clock). With a durability set, the claim
   * counts only once durable: one Redis could otherwise forget it after foxapi was paid, and
   * another worker would pay again; a claim not confirmed in time is released ('unconfirmed').
   */
  async claimSubmit(jobId: string, batch: number, token: string, leaseMs: number, maxInflight: number): Promise<ClaimResult> {
    const key = this.keys.batch(jobId, batch);
    const claim = (await this.submitRedis.bsClaimSubmit(
      key,
      this.keys.inflight,
      this.keys.job(jobId),
      token,
      leaseMs,
      maxInflight,
    )) as ClaimResult;
    if (claim !== 'claimed' || !this.durability?.enabled) return claim;
    let confirmed: boolean;
    try {
      confirmed = await this.durability.confirm(key);
    } catch (err) {
      // Not confirmed either: a claim left held would later pass for a submit that died mid-request.
      await this.submitRedis.bsReleaseClaim(key, this.keys.inflight, token);
      throw err;
    }
    if (confirmed) return 'claimed';
    await this.submitRedis.bsReleaseClaim(key, this.keys.inflight, token);
    return 'unconfirmed';
  }

  /** Whether a foxapi task slot is free for this batch now: a look that books nothing (the claim decides). */
  async hasFreeSlot(jobId: string, batch: number, maxInflight: number): Promise<boolean> {
    return (await this.redis.bsHasFreeSlot(this.keys.batch(jobId, batch), this.keys.inflight, maxInflight)) === 1;
  }

  /** Redis's clock, ms since epoch: the one every worker compares leases with. */
  async nowMs(): Promise<number> {
    const [s, us] = await this.redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  async releaseClaim(jobId: string, batch: number, token: string): Promise<boolean> {
    return (await this.submitRedis.bsReleaseClaim(this.keys.batch(jobId, batch), this.keys.inflight, token)) === 1;
  }

  /** Counts one more upstream failure of the batch; never recreates a deleted batch record. */
  countBackoff(jobId: string, batch: number): Promise<number> {
    return this.redis.bsCountBackoff(this.keys.batch(jobId, batch));
  }

  /**
   * submitting → submitted with the task id. `durable` says whether the durability set (if
   * any) confirmed it; the task exists either way, so a false changes nothing but the log.
   */
  async recordSubmitted(
    jobId: string,
    batch: number,
    token: string,
    fields: Record<string, string | number>,
    files: FileOutcomeRecord[],
  ): Promise<{ outcome: RecordOutcome; durable: boolean }> {
    const key = this.keys.batch(jobId, batch);
    const homes = await this.homesOf(
      jobId,
      files.map((f) => f.index),
    );
    const keys = [this.keys.job(jobId), key, this.keys.inflight, ...homes.map((h) => this.keys.batch(jobId, h))];
    const res = await this.submitRedis.bsRecordSubmitted(
      keys.length,
      ...keys,
      token,
      new Date().toISOString(),
      JSON.stringify(fields),
      ...homes,
    );
    if (res === 0) return { outcome: 'lost', durable: true };
    const durable = this.durability?.enabled ? await this.durability.confirm(key) : true;
    await this.redis.publish(this.keys.jobEvents, jobId);
    return { outcome: res === 2 ? 'recovered' : 'recorded', durable };
  }

  /**
   * Moves the batch to a terminal state with every file's outcome, and settles the job when it
   * was the last open batch. `usage` is what the batch cost (usage.ts), counted in the same step.
   * Returns false when the batch was not in one of `expected` states.
   */
  async finish(
    jobId: string,
    batch: number,
    expected: BatchState[],
    next: 'completed' | 'failed' | 'cancelled',
    files: FileOutcomeRecord[],
    fields: Record<string, string | number> = {},
    usage: BatchUsage | null = null,
  ): Promise<boolean> {
    const args = files.flatMap((f) => [String(f.index), f.record.s, f.record.e ? wellFormedJson(f.record.e) : '']);
    for (let attempt = 0; ; attempt++) {
      // usage: the job's tenant names its usage keys (usage.ts); reuse: its model and options make the fingerprints
      const [total, tenant, model, options] = await this.redis.hmget(this.keys.job(jobId), 'b_total', 'tenant', 'model', 'options');
      const batches = Number(total ?? 0);
      const counted = finishUsage(this.keys, tenant ?? '', usage); // usage
      const learnt = this.reuse.learning(
        tenant ?? '',
        usage?.at ?? Date.now(),
        completedFingerprints(files, model ?? null, options ?? null),
      );
      const keys = [
        this.keys.job(jobId),
        this.keys.batch(jobId, batch),
        this.keys.inflight,
        this.keys.webhookOutbox,
        ...counted.keys, // usage
        learnt.key, // reuse
        ...this.keys.batches(jobId, 0, batches),
      ];
      try {
        const res = await this.redis.bsFinishBatch(
          keys.length,
          ...keys,
          expected.join(','),
          next,
          new Date().toISOString(),
          this.retentionS,
          JSON.stringify(fields),
          this.keys.jobEvents,
          jobId,
          counted.arg, // usage
          learnt.arg, // reuse
          ...args,
        );
        return res === 1;
      } catch (err) {
        // A retry added batches between the read of b_total and the script: read it again (and the tenant, for usage).
        if (scriptRefusal(err)?.word !== 'STALE' || attempt >= STALE_RETRIES) throw err;
      }
    }
  }

  /**
   * Takes out of a queued batch the files that need no foxapi task (REUSE_SPLIT): completes the
   * reused ones, moves the deferred ones into a new batch (or keeps only them), and leaves the
   * batch carrying `rest`. A new batch must then be enqueued, and `doneEnqueueing` called.
   */
  async reuseSplit(jobId: string, batch: number, plan: ReusePlan): Promise<ReuseSplitOutcome> {
    const sources = [...new Set(plan.reused.map((r) => r.source.jobId))];
    const reused = plan.reused.map((r) => [r.index, sources.indexOf(r.source.jobId) + 1, r.source.index]);
    for (let attempt = 0; ; attempt++) {
      const [total, tenant] = await this.redis.hmget(this.keys.job(jobId), 'b_total', 'tenant');
      if (total === null) return { kind: 'gone' };
      const batches = Number(total);
      // usage: reused files count as reused, with no audio and nothing billed
      const counted = finishUsage(this.keys, tenant ?? '', { at: plan.at, audioMs: 0, billedMs: null, reused: plan.reused.length });
      const keys = [
        this.keys.job(jobId),
        this.keys.batch(jobId, batch),
        this.keys.batch(jobId, batches),
        this.keys.intakePending,
        this.keys.webhookOutbox,
        ...counted.keys,
        ...sources.map((id) => this.keys.job(id)),
        ...sources.map((id) => this.keys.blobRefs(id)),
        ...this.keys.batches(jobId, 0, batches),
      ];
      let reply: unknown;
      try {
        reply = await this.redis.bsReuseSplit(
          keys.length,
          ...keys,
          new Date().toISOString(),
          this.retentionS,
          this.keys.jobEvents,
          jobId,
          counted.arg,
          sources.length,
          JSON.stringify(plan.expected),
          JSON.stringify(reused),
          JSON.stringify(plan.deferred),
          JSON.stringify(plan.rest),
          plan.at,
          ...sources,
        );
      } catch (err) {
        // A retry or another split added batches between the read of b_total and the script.
        if (scriptRefusal(err)?.word !== 'STALE' || attempt >= STALE_RETRIES) throw err;
        continue;
      }
      if (reply === -1) return { kind: 'gone' };
      const [word, ...rest] = reply as Array<string | number>;
      if (word === 'moved' || word === 'cancelling' || word === 'intake') return { kind: word };
      if (word === 'invalid') return { kind: 'invalid', sources: rest.map((s) => sources[Number(s) - 1]!) };
      const created = Number(rest[1]);
      return { kind: 'ok', ended: Number(rest[0]) === 1, created: created >= 0 ? created : null };
    }
  }

  /** The batch a split made is on the queue: the job leaves intake pending, unless an intake still holds it there. */
  async doneEnqueueing(jobId: string, at: number): Promise<void> {
    await this.redis.bsClearOwnPending(this.keys.intakePending, jobId, at);
  }

  /** The home batches of these files (distinct, ascending). */
  private async homesOf(jobId: string, indexes: readonly number[]): Promise<number[]> {
    const page = await requirePage(this.redis, this.keys, jobId);
    return [...new Set(indexes.map((i) => homeOf(i, page)))].sort((a, b) => a - b);
  }

  /** Forgets a batch's consecutive upstream failures (it got an answer). */
  async clearBackoff(jobId: string, batch: number): Promise<void> {
    await this.redis.hdel(this.keys.batch(jobId, batch), 'backoffs');
  }

  async incrementPolls(jobId: string, batch: number): Promise<void> {
    await this.redis.hincrby(this.keys.batch(jobId, batch), 'polls', 1);
  }
}

/**
 * The fingerprints of the completed files among these (index → hex), which FINISH_BATCH teaches
 * the tenant's reuse index; a reused file is never among them (REUSE_SPLIT completes those).
 */
function completedFingerprints(files: readonly FileOutcomeRecord[], model: string | null, options: string | null): Map<number, string> {
  const out = new Map<number, string>();
  const completed = files.filter((f) => f.record.s === 'completed' && f.record.rf === undefined);
  if (completed.length === 0) return out;
  const opts = upstreamOptionsFromHash(options === null ? {} : { options });
  for (const f of completed) out.set(f.index, reuseFingerprint(reuseIdentity(f.record), model ?? 'paraformer-v2', opts));
  return out;
}

/** A batch's file indexes: the list it carries when it has one (a retry's, or one split by reuse), else a home batch's range (`first`, `n`). */
function batchFileIndexes(h: Record<string, string>): number[] {
  if (h.first !== undefined && h.n !== undefined && h.files === undefined) {
    const first = Number(h.first);
    return Array.from({ length: Number(h.n) }, (_, k) => first + k);
  }
  return JSON.parse(h.files ?? '[]') as number[];
}

/** Files per home batch of the job (its batch size at intake), or null when the job is gone. */
export async function jobPage(redis: Redis, keys: KeyLayout, jobId: string): Promise<number | null> {
  const raw = await redis.hget(keys.job(jobId), 'page');
  if (raw === null) return (await redis.exists(keys.job(jobId))) === 1 ? damagedPage(jobId) : null;
  return pageOf(raw, jobId);
}

/** The `page` field of an existing job's hash, checked. */
export function pageOf(raw: string | undefined, jobId: string): number {
  const page = Number(raw);
  return raw !== undefined && Number.isInteger(page) && page >= 1 ? page : damagedPage(jobId);
}

function damagedPage(jobId: string): never {
  throw new DamagedRecordError(`The record of job ${jobId} has no readable page size.`);
}

async function requirePage(redis: Redis, keys: KeyLayout, jobId: string): Promise<number> {
  const page = await jobPage(redis, keys, jobId);
  if (page === null) throw new Error(`job ${jobId} is missing`);
  return page;
}

/**
 * The records of the given files, read from their home batches in one round trip, plus one
 * for the task ids of the retry batches some of them went out in. A file whose home is gone
 * (the job was deleted meanwhile) is missing from the answer.
 */
export async function readFileRecords(redis: Redis, keys: KeyLayout, jobId: string, indexes: readonly number[]): Promise<FileRecord[]> {
  const page = await requirePage(redis, keys, jobId);
  const homes = [...new Set(indexes.map((i) => homeOf(i, page)))];
  const byIndex = await readHomes(redis, keys, jobId, page, homes);
  return indexes.map((i) => {
    const record = byIndex.get(i);
    if (record === undefined) throw new Error(`file ${i} of job ${jobId} is missing`);
    return record;
  });
}

/** Every file of the given home batches, by index (homes that do not exist are left out). */
export async function readHomes(
  redis: Redis,
  keys: KeyLayout,
  jobId: string,
  page: number,
  homes: readonly number[],
): Promise<Map<number, FileRecord>> {
  const pipeline = redis.pipeline();
  for (const h of homes) pipeline.hmget(keys.batch(jobId, h), ...HOME_FIELDS);
  const replies = (await pipeline.exec()) ?? [];
  const fields = homes.map((_, k) => homeFieldsFrom((replies[k]?.[1] as (string | null)[] | undefined) ?? []));
  const later = viaBatches(fields);
  const tasks = new Map<number, string | null>();
  if (later.length > 0) {
    const ids = await Promise.all(later.map((b) => redis.hget(keys.batch(jobId, b), 'task_id')));
    later.forEach((b, k) => tasks.set(b, ids[k] ?? null));
  }
  const out = new Map<number, FileRecord>();
  for (const [k, h] of homes.entries()) {
    const f = fields[k]!;
    if (f.f === null && f.st === null) continue;
    try {
      for (const { index, record } of unpackHome(h, page, f, (b) => tasks.get(b) ?? null)) out.set(index, record);
    } catch (err) {
      throw new DamagedRecordError(`The files of batch ${h} of job ${jobId} cannot be read: ${(err as Error).message}.`);
    }
  }
  return out;
}
