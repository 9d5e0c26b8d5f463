import type { Redis } from 'ioredis';
import { DamagedRecordError } from '../domain/errors.js';
import type { Priority } from '../domain/job.js';
import type { ClaimHandle } from './claims.js';
import type { KeyLayout } from './keys.js';
import { scriptRefusal, withScripts } from './commands.js';
import { STATUS_LETTERS, homeOf, packInputs, packLeaders, type FileInput } from './file-entries.js';
import { ATTACH_UPLOAD_LUA } from './uploads.js';
import { UrlListBytes, fileInputs, type JobFiles } from './url-list-bytes.js';
import {
  ACTION_DONE,
  CANCEL_CHUNK,
  CANCEL_START,
  DELETE_CHUNK,
  DELETE_DONE,
  DELETE_START,
  RETRY_ABORT,
  RETRY_COMMIT,
  RETRY_EMIT,
  RETRY_SCAN,
  RETRY_START,
} from './job-scripts.js';

type Reply = (string | number)[];
type Call = (numKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;
interface JobScripts {
  bsCancelStart: Call;
  bsCancelChunk: Call;
  bsRetryStart: Call;
  bsRetryScan: Call;
  bsRetryEmit: Call;
  bsRetryAbort: Call;
  bsRetryCommit: Call;
  bsDeleteStart: Call;
  bsDeleteChunk: Call;
  bsDeleteDone: Call;
  bsActionDone: Call;
}

export type PendingAction = 'cancel' | 'retry' | 'delete';

/** How much one step of a chunked action may do: each step stays well under 10 ms on a 100,000-file job. */
export interface ActionChunks {
  /** Batches one cancel step looks at. */
  cancelBatches: number;
  /** Home batches whose file statuses one retry step scans (file-entries.ts). */
  retryHomes: number;
  /** New batches one retry step fills. */
  retryBatches: number;
  /** Batch keys one delete step removes. */
  deleteBatches: number;
}

export const DEFAULT_ACTION_CHUNKS: ActionChunks = { cancelBatches: 4, retryHomes: 50, retryBatches: 5, deleteBatches: 100 };

export interface JobStoreOptions {
  retentionS: number;
  /** Files per batch for the batches a retry makes. */
  batchSize: number;
  /** Queues new batches (a retry's) for the workers; idempotent. */
  enqueue: (jobId: string, batches: number[], priority: Priority) => Promise<void>;
  chunks?: Partial<ActionChunks>;
  /** Called after each chunk step; a test throws here to stop an action half-way, as a crash would. */
  afterChunk?: (action: PendingAction, jobId: string, chunk: number) => void | Promise<void>;
}

export type CancelOutcome = 'missing' | 'noop' | 'finished' | 'ok';
export type RetryOutcome = { word: 'missing' } | { word: 'running' } | { word: 'nothing' } | { word: 'ok'; batches: number };
export type DeleteOutcome =
  { word: 'missing' } | { word: 'running' } | { word: 'ok'; batches: number; finishedAt: string | null; webhookRound: number };

/** A step that found a record it cannot read (or was given bad arguments) and changed nothing. */
export class JobRecordDamagedError extends DamagedRecordError {
  constructor(
    readonly action: string,
    readonly jobId: string,
    detail: string,
  ) {
    super(`The ${action} of job ${jobId} did not run: ${detail}.`);
  }
}

/** How many times a step is run again after another runner moved the job's cursor or batch count. */
const MAX_RETRIES = 1_000;

/**
 * Cancel, retry and delete of jobs, each run as bounded chunks (see job-actions.lua.ts). A job
 * whose action stopped half-way (the process died) carries `pending_action`; the next action on
 * it, or the worker's sweep (resumeStale), finishes it first.
 */
export class JobStore {
  private readonly redis: Redis & JobScripts;
  private readonly chunks: ActionChunks;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
    private readonly opts: JobStoreOptions,
  ) {
    this.redis = withScripts<JobScripts>(redis, {
      bsCancelStart: { lua: CANCEL_START },
      bsCancelChunk: { lua: CANCEL_CHUNK },
      bsRetryStart: { lua: RETRY_START },
      bsRetryScan: { lua: RETRY_SCAN },
      bsRetryEmit: { lua: RETRY_EMIT },
      bsRetryAbort: { lua: RETRY_ABORT },
      bsRetryCommit: { lua: RETRY_COMMIT },
      bsDeleteStart: { lua: DELETE_START },
      bsDeleteChunk: { lua: DELETE_CHUNK },
      bsDeleteDone: { lua: DELETE_DONE },
      bsActionDone: { lua: ACTION_DONE },
    });
    this.chunks = { ...DEFAULT_ACTION_CHUNKS, ...opts.chunks };
  }

  /** Queued batches are cancelled; open tasks run to their end; the job reads `cancelling` until they do. */
  async cancel(jobId: string, tenant: string): Promise<CancelOutcome> {
    for (let i = 0; i < 3; i++) {
      const n = await this.batchCount(jobId, this.chunks.cancelBatches);
      const homes = await this.homesOf(jobId, 0, n);
      const keys = [
        this.keys.job(jobId),
        this.keys.pendingActions,
        ...this.keys.batches(jobId, 0, n),
        ...homes.map((h) => this.keys.batch(jobId, h)),
      ];
      const [word, pending] = (await this.step('cancel', jobId, () =>
        this.redis.bsCancelStart(keys.length, ...keys, tenant, iso(), Date.now(), jobId, this.keys.jobEvents, n, ...homes),
      )) as Reply;
      if (word === 'pending') {
        await this.resume(jobId, String(pending) as PendingAction);
        continue;
      }
      if (word !== 'ok') return word as CancelOutcome;
      await this.opts.afterChunk?.('cancel', jobId, 0);
      await this.runCancel(jobId, 1);
      return 'ok';
    }
    return 'missing';
  }

  /** Every failed file goes out again in new batches numbered after the existing ones. */
  async retry(jobId: string, tenant: string): Promise<RetryOutcome> {
    for (let i = 0; i < 3; i++) {
      const [word, pending] = (await this.step('retry', jobId, () =>
        this.redis.bsRetryStart(2, this.keys.job(jobId), this.keys.pendingActions, tenant, Date.now(), jobId),
      )) as Reply;
      if (word === 'pending' && pending === 'retry') {
        // A retry whose caller died half-way: finishing it is what this call asked for.
        const made = await this.runRetry(jobId);
        return made === null ? { word: 'nothing' } : { word: 'ok', batches: made };
      }
      if (word === 'pending') {
        await this.resume(jobId, String(pending) as PendingAction);
        continue;
      }
      if (word !== 'ok') return { word } as RetryOutcome;
      const made = await this.runRetry(jobId);
      if (made === null) return { word: 'nothing' };
      return { word: 'ok', batches: made };
    }
    return { word: 'missing' };
  }

  /** Removes every key of a finished job; it reads as missing from the first step on. */
  async delete(jobId: string, tenant: string): Promise<DeleteOutcome> {
    for (let i = 0; i < 3; i++) {
      const reply = (await this.step('delete', jobId, () =>
        this.redis.bsDeleteStart(
          3,
          this.keys.job(jobId),
          this.keys.tenantJobs(tenant),
          this.keys.pendingActions,
          tenant,
          Date.now(),
          jobId,
        ),
      )) as Reply;
      const [word, batches, finishedAt, round] = reply;
      if (word === 'pending') {
        await this.resume(jobId, String(batches) as PendingAction);
        continue;
      }
      if (word !== 'ok') return { word } as DeleteOutcome;
      await this.runDelete(jobId);
      return { word: 'ok', batches: Number(batches), finishedAt: finishedAt ? String(finishedAt) : null, webhookRound: Number(round) };
    }
    return { word: 'missing' };
  }

  /** Finishes the actions that have been pending longer than `olderThanMs` (their caller died). Returns how many. */
  async resumeStale(olderThanMs: number, now: number = Date.now(), limit = 20): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.keys.pendingActions, '-inf', now - olderThanMs, 'LIMIT', 0, limit);
    for (const jobId of ids) {
      const action = await this.redis.hget(this.keys.job(jobId), 'pending_action');
      if (action === null) await this.redis.zrem(this.keys.pendingActions, jobId);
      else await this.resume(jobId, action as PendingAction);
    }
    return ids.length;
  }

  /** The action under way on a job, if any. */
  async pendingAction(jobId: string): Promise<PendingAction | null> {
    return (await this.redis.hget(this.keys.job(jobId), 'pending_action')) as PendingAction | null;
  }

  private async resume(jobId: string, action: PendingAction): Promise<void> {
    if (action === 'cancel') await this.runCancel(jobId);
    else if (action === 'retry') await this.runRetry(jobId);
    else await this.runDelete(jobId);
  }

  private async runCancel(jobId: string, firstChunk = 0): Promise<void> {
    let chunk = firstChunk;
    for (let i = 0; i < MAX_RETRIES; i++) {
      const [cursor, total] = await this.cursor(jobId, 'cancel');
      if (cursor === null) return; // another runner finished it
      if (cursor >= total) break;
      const to = Math.min(total, cursor + this.chunks.cancelBatches);
      const homes = await this.homesOf(jobId, cursor, to);
      const keys = [this.keys.job(jobId), ...this.keys.batches(jobId, cursor, to), ...homes.map((h) => this.keys.batch(jobId, h))];
      const word = await this.step('cancel', jobId, () =>
        this.redis.bsCancelChunk(keys.length, ...keys, cursor, iso(), to - cursor, ...homes),
      );
      if (word === 'ok') await this.opts.afterChunk?.('cancel', jobId, chunk++);
    }
    await this.done('cancel', jobId);
  }

  /**
   * Scans every home batch's file statuses for failed ones (changing nothing), then makes the
   * job active again and puts them into new batches. Returns how many batches it made, or null
   * when the scan found no failed file (the retry is dropped). A record that cannot be read drops it too.
   */
  private async runRetry(jobId: string): Promise<number | null> {
    let chunk = 0;
    let made = 0;
    for (let i = 0; i < MAX_RETRIES * 10; i++) {
      const [pending, cursor, total, page, committed] = await this.redis.hmget(
        this.keys.job(jobId),
        'pending_action',
        'action_cursor',
        'f_total',
        'page',
        'retry_committed',
      );
      if (pending !== 'retry') return made;
      const homes = Math.ceil(Number(total) / Number(page));
      if (Number(cursor) < homes) {
        const from = Number(cursor);
        const keys = [
          this.keys.job(jobId),
          this.keys.retryFound(jobId),
          ...this.keys.batches(jobId, from, Math.min(homes, from + this.chunks.retryHomes)),
        ];
        try {
          const [word] = (await this.step('retry', jobId, () => this.redis.bsRetryScan(keys.length, ...keys, from))) as Reply;
          if (word === 'ok') await this.opts.afterChunk?.('retry', jobId, chunk++);
        } catch (err) {
          if (err instanceof JobRecordDamagedError) await this.abortRetry(jobId);
          throw err;
        }
        continue;
      }
      const found = await this.redis.llen(this.keys.retryFound(jobId));
      if (committed === null) {
        if (found === 0) {
          await this.abortRetry(jobId);
          return null;
        }
        await this.withBatchKeys('retry', jobId, (batchKeys) => {
          const keys = [this.keys.job(jobId), ...batchKeys];
          return this.redis.bsRetryCommit(keys.length, ...keys, iso());
        });
        await this.opts.afterChunk?.('retry', jobId, chunk++);
        continue;
      }
      if (found === 0) break;
      made += await this.emit(jobId, found);
      await this.opts.afterChunk?.('retry', jobId, chunk++);
    }
    await this.done('retry', jobId);
    return made;
  }

  private async abortRetry(jobId: string): Promise<void> {
    await this.redis.bsRetryAbort(3, this.keys.job(jobId), this.keys.retryFound(jobId), this.keys.pendingActions, jobId);
  }

  /**
   * The home batches of the files that batches `from` … `to`-1 carry, which a cancel step must
   * be given: the home batches among them, and those of a retry batch's files (a retry batch's
   * file list never changes once written).
   */
  private async homesOf(jobId: string, from: number, to: number): Promise<number[]> {
    const [total, pageRaw] = await this.redis.hmget(this.keys.job(jobId), 'f_total', 'page');
    const page = Number(pageRaw);
    if (!(page >= 1)) return [];
    const firstRetry = Math.max(from, Math.ceil(Number(total) / page));
    const homes = new Set<number>(Array.from({ length: Math.max(0, Math.min(to, firstRetry) - from) }, (_, k) => from + k));
    if (firstRetry >= to) return [...homes];
    const lists = await Promise.all(
      Array.from({ length: to - firstRetry }, (_, k) => this.redis.hget(this.keys.batch(jobId, firstRetry + k), 'files')),
    );
    for (const list of lists) for (const i of list === null ? [] : (JSON.parse(list) as number[])) homes.add(homeOf(i, page));
    return [...homes];
  }

  /** The job's batch count, at most `max` (for a step that looks at the first few). */
  private async batchCount(jobId: string, max: number): Promise<number> {
    return Math.min(max, Number((await this.redis.hget(this.keys.job(jobId), 'b_total')) ?? 0));
  }

  private async emit(jobId: string, found: number): Promise<number> {
    const [first, priority, pageRaw] = await this.redis.hmget(this.keys.job(jobId), 'b_total', 'priority', 'page');
    const from = Number(first);
    const page = Number(pageRaw);
    const count = Math.min(this.chunks.retryBatches, Math.ceil(found / this.opts.batchSize));
    // The files this emit takes (the script reads the same head of the list, and checks it).
    const taken = await this.redis.lrange(this.keys.retryFound(jobId), 0, count * this.opts.batchSize - 1);
    const homes = [...new Set(taken.map((i) => homeOf(Number(i), page)))];
    const keys = [
      this.keys.job(jobId),
      this.keys.retryFound(jobId),
      this.keys.intakePending,
      ...this.keys.batches(jobId, from, from + count),
      ...homes.map((h) => this.keys.batch(jobId, h)),
    ];
    const [word, firstBatch, made] = (await this.step('retry', jobId, () =>
      this.redis.bsRetryEmit(keys.length, ...keys, from, this.opts.batchSize, iso(), Date.now(), jobId, count, ...homes),
    )) as Reply;
    if (word !== 'ok') return 0;
    const batches = Array.from({ length: Number(made) }, (_, k) => Number(firstBatch) + k);
    await this.opts.enqueue(jobId, batches, (priority ?? 'bulk') as Priority);
    // Still pending while the retry runs, when another emit re-added it: the sweeper's enqueue is idempotent.
    await this.redis.zrem(this.keys.intakePending, jobId);
    await this.redis.publish(this.keys.jobEvents, jobId);
    return batches.length;
  }

  private async runDelete(jobId: string): Promise<void> {
    let chunk = 0;
    for (let i = 0; i < MAX_RETRIES; i++) {
      const [cursor, total] = await this.cursor(jobId, 'delete');
      if (cursor === null) return;
      if (cursor >= total) break;
      const to = Math.min(total, cursor + this.chunks.deleteBatches);
      const keys = [this.keys.job(jobId), ...this.keys.batches(jobId, cursor, to)];
      const word = await this.step('delete', jobId, () => this.redis.bsDeleteChunk(keys.length, ...keys, cursor));
      if (word === 'ok') await this.opts.afterChunk?.('delete', jobId, chunk++);
    }
    await this.redis.bsDeleteDone(3, this.keys.job(jobId), this.keys.retryFound(jobId), this.keys.pendingActions, jobId);
  }

  private async done(action: 'cancel' | 'retry', jobId: string): Promise<void> {
    await this.withBatchKeys(action, jobId, (batchKeys) => {
      const keys = [this.keys.job(jobId), this.keys.webhookOutbox, this.keys.pendingActions, this.keys.retryFound(jobId), ...batchKeys];
      return this.redis.bsActionDone(keys.length, ...keys, action, iso(), this.opts.retentionS, jobId, this.keys.jobEvents);
    });
  }

  /** The action's cursor and how far it goes (b_total, or `totalField`), or [null, 0] when `action` is not under way. */
  private async cursor(jobId: string, action: PendingAction, totalField = 'b_total'): Promise<[number | null, number]> {
    const [pending, cursor, total] = await this.redis.hmget(this.keys.job(jobId), 'pending_action', 'action_cursor', totalField);
    if (pending !== action) return [null, 0];
    return [Number(cursor ?? 0), Number(total ?? 0)];
  }

  /** Runs a script that must be given every batch key of the job, reading b_total again if a retry changed it meanwhile. */
  private async withBatchKeys(action: string, jobId: string, run: (batchKeys: string[]) => Promise<unknown>): Promise<Reply> {
    for (let attempt = 0; ; attempt++) {
      const total = Number((await this.redis.hget(this.keys.job(jobId), 'b_total')) ?? 0);
      try {
        return (await this.step(action, jobId, () => run(this.keys.batches(jobId, 0, total)))) as Reply;
      } catch (err) {
        if (!(err instanceof StaleKeysError) || attempt >= 3) throw err;
      }
    }
  }

  private async step(action: string, jobId: string, run: () => Promise<unknown>): Promise<unknown> {
    try {
      return await run();
    } catch (err) {
      const refusal = scriptRefusal(err);
      if (refusal?.word === 'STALE') throw new StaleKeysError(refusal.detail);
      if (refusal) throw new JobRecordDamagedError(action, jobId, refusal.detail);
      throw err;
    }
  }
}

class StaleKeysError extends Error {}

const iso = () => new Date().toISOString();

/** Oldest entries of a tenant's job index looked at per new job (see confirmJobEnqueued). */
const PRUNE_PER_JOB = 10;

export interface NewJob {
  id: string;
  tenant: string;
  /** The job hash's fields (jobRecordFields). */
  record: Record<string, string | number>;
  /** Every file, in index order. */
  files: JobFiles;
  /** Files per batch: batch b carries files b×page … (b+1)×page-1, and is their home record. */
  page: number;
  createdMs: number;
  /** A claim-once record that names the job in the same MULTI, so a replay never sees it without its job. */
  claim?: ClaimHandle;
  /** A `reuse` job: each home notes which of its files repeat an earlier file of the job (file-entries.ts `dup`). */
  reuse?: boolean;
  /** When the files' uploads were checked ready: the time their attachment is judged at (see attachUploads). */
  uploadsCheckedAt?: number;
}

interface AttachCommand {
  bsUploadAttach(upload: string, jobs: string, due: string, jobId: string, now: number): unknown;
}

/**
 * Writes the job and its batch records, each carrying its files packed (file-entries.ts), in
 * one MULTI (all or nothing: a request that dies before EXEC leaves no trace). The job sits in
 * the intake pending set until confirmJobEnqueued, so if the process dies in between the
 * worker's intake sweeper enqueues it.
 */
export async function writeNewJob(redis: Redis, keys: KeyLayout, job: NewJob): Promise<void> {
  // A reuse job looks at every URL (packLeaders), so it takes them one by one.
  const files = job.reuse ? fileInputs(job.files) : job.files;
  const inputs = files instanceof UrlListBytes ? null : files;
  // A MULTI has the scripts defined on its connection when it is made.
  if (inputs?.some((f) => f.upload !== undefined))
    withScripts<AttachCommand>(redis, { bsUploadAttach: { keys: 3, lua: ATTACH_UPLOAD_LUA } });
  const multi = redis.multi();
  multi.hset(keys.job(job.id), { ...job.record, page: job.page });
  const queued = STATUS_LETTERS.queued;
  const leaders = job.reuse && inputs ? packLeaders(inputs, job.page) : new Map<number, string>();
  for (let b = 0, first = 0; first < files.length; b++, first += job.page) {
    const end = Math.min(first + job.page, files.length);
    const dup = leaders.get(b);
    // Flat arguments (ioredis flattens an object argument), and the inputs as bytes: a
    // 100,000-file intake keeps no 7 MB of strings alive for the garbage collector to copy until
    // EXEC, nor has ioredis join them into one more.
    const packed = inputs ? Buffer.from(packInputs(inputs, first, end)) : (files as UrlListBytes).packed(first, end);
    const fields = ['state', 'queued', 'first', first, 'n', end - first, 'f', packed, 'st', queued.repeat(end - first)];
    if (dup !== undefined) fields.push('dup', dup);
    multi.hset(keys.batch(job.id, b), ...fields);
  }
  multi.zadd(keys.tenantJobs(job.tenant), 0, job.id);
  multi.zadd(keys.intakePending, job.createdMs, job.id);
  if (inputs) attachUploads(multi, keys, job.id, inputs, job.uploadsCheckedAt ?? job.createdMs);
  if (job.claim) multi.set(job.claim.key, job.claim.value(job.id), 'KEEPTTL');
  const result = await multi.exec();
  const failed = result?.find(([err]) => err);
  if (!result || failed) throw failed?.[0] ?? new Error('job write was aborted');
}

/**
 * The job's uploads are attached in its own MULTI (UploadStore's attach script, as
 * `attachToJob` runs it), so a job is never written without its media held, nor media held for
 * a job that was not written: no crash window, nothing to undo when the write fails. The script
 * judges expiry at `uploadsCheckedAt`, the instant the intake found the uploads ready; what it
 * can still refuse is an upload whose deletion began since (a DELETE, or a sweep of one that was
 * already due). Such a refusal does not stop the MULTI: the job is written, and that file fails
 * at its submit with `upload_gone` (apps/worker/src/pipeline/media-handoff.ts), as it would
 * had the media gone a moment later.
 */
function attachUploads(multi: ReturnType<Redis['multi']>, keys: KeyLayout, jobId: string, files: readonly FileInput[], at: number): void {
  const held = new Set<string>();
  for (const f of files) if (f.upload) held.add(f.upload.id);
  const tx = multi as unknown as AttachCommand;
  for (const id of held) tx.bsUploadAttach(keys.upload(id), keys.uploadJobs(id), keys.uploadsDue, jobId, at);
}

/**
 * Every batch of the job is queued: it leaves the intake pending set, and its creation is
 * announced. A tenant's job index holds every job id it made, but a ZSET member cannot expire
 * with its job: ids sort by creation time, so each new job drops the expired among the oldest
 * few, and the index stays about as large as the tenant's jobs still retained.
 */
export async function confirmJobEnqueued(redis: Redis, keys: KeyLayout, jobId: string, tenant: string): Promise<void> {
  await redis.zrem(keys.intakePending, jobId);
  await redis.publish(keys.jobEvents, jobId);
  const index = keys.tenantJobs(tenant);
  const oldest = await redis.zrange(index, '-', '+', 'BYLEX', 'LIMIT', 0, PRUNE_PER_JOB);
  if (oldest.length === 0) return;
  // An id whose job key is gone never comes back (ids are unique), so no script is needed.
  const exists = await Promise.all(oldest.map((id) => redis.exists(keys.job(id))));
  const gone = oldest.filter((_, i) => exists[i] === 0);
  if (gone.length > 0) await redis.zrem(index, ...gone);
}

/** The jobs whose intake an api process may not have finished (written more than `graceMs` ago), with what re-enqueueing them needs. */
export async function stalledIntakes(
  redis: Redis,
  keys: KeyLayout,
  olderThanMs: number,
  limit = 100,
): Promise<Array<{ jobId: string; batches: number | null; priority: Priority }>> {
  const ids = await redis.zrangebyscore(keys.intakePending, '-inf', olderThanMs, 'LIMIT', 0, limit);
  return Promise.all(
    ids.map(async (jobId) => {
      const [total, priority] = await redis.hmget(keys.job(jobId), 'b_total', 'priority');
      return { jobId, batches: total === null ? null : Number(total), priority: (priority ?? 'bulk') as Priority };
    }),
  );
}

/**
 * What enqueueing a job's intake batches needs: its tenant, priority and how many batches the
 * intake made (its home batches; a retry's come later and are enqueued by the retry). Null when the job is gone.
 */
export async function intakeOf(
  redis: Redis,
  keys: KeyLayout,
  jobId: string,
): Promise<{ tenant: string; priority: Priority; batches: number } | null> {
  const [tenant, priority, total, page] = await redis.hmget(keys.job(jobId), 'tenant', 'priority', 'f_total', 'page');
  if (tenant == null || total == null || page == null) return null;
  return { tenant, priority: (priority ?? 'bulk') as Priority, batches: Math.ceil(Number(total) / Number(page)) };
}

/** Takes a job off the intake pending set (all its batches are queued, or it is gone). */
export async function clearIntakePending(redis: Redis, keys: KeyLayout, jobId: string): Promise<void> {
  await redis.zrem(keys.intakePending, jobId);
}

/** Whether any record of the job is still in Redis (the blob sweeper keeps the transcripts of those). */
export async function jobExists(redis: Redis, keys: KeyLayout, jobId: string): Promise<boolean> {
  return (await redis.exists(keys.job(jobId))) === 1;
}

/** The job's hash as stored (empty when it does not exist): for the worker's steps, which act on any tenant's job. */
export async function readJobHash(redis: Redis, keys: KeyLayout, jobId: string): Promise<Record<string, string>> {
  return redis.hgetall(keys.job(jobId));
}

/** Marks the whole job as failed by an upstream refusal; its remaining batches fail with this error. */
export async function setJobError(redis: Redis, keys: KeyLayout, jobId: string, error: { code: string; message: string }): Promise<void> {
  await redis.hset(keys.job(jobId), 'error', JSON.stringify(error));
}
