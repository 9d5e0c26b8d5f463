import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import type { FileRecord, FileStatus, Job } from '../domain/job.js';
import { jobFromHash, waitingReason } from '../domain/job-record.js';
import { currentUpstreamProblem } from './upstream-health.js';
import { pageOf, readHomes } from './batch-store.js';
import { STATUS_LETTERS, homeOf } from './file-entries.js';
import { parseBudgetHold } from './usage.js';
import type { JobLookup } from '../domain/require-job.js';

/**
 * A job and how its files are laid out, from one read: a results route reads the job, then its
 * files, without asking Redis for the layout again.
 */
export interface JobForFiles {
  job: Job;
  /** The job's file count. */
  total: number;
  /** Files per home batch; undefined in a job hash an earlier release wrote (packed by a worker at start). */
  page: string | undefined;
  jobId: string;
}

export interface FilePage {
  files: Array<{ index: number; record: FileRecord }>;
  /** First index not yet looked at, or null when the end was reached. */
  next: number | null;
}

/** Read-only queries over jobs and files (transcripts live in the blob store: TranscriptStore). */
export class JobReader {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  /** The job if it exists and belongs to `tenant`; another tenant's job reads as missing. */
  async getJob(jobId: string, tenant: string): Promise<Job | null> {
    return (await this.getJobFiles(jobId, tenant))?.job ?? null;
  }

  /** getJob, with what reading the job's files needs (readFiles, readFile). */
  readonly withFiles: JobLookup<JobForFiles> = { getJob: (jobId, tenant) => this.getJobFiles(jobId, tenant) };

  private async getJobFiles(jobId: string, tenant: string): Promise<JobForFiles | null> {
    // Two commands written back to back: one round trip, and no MULTI, for which ioredis builds
    // a Pipeline that copies every script BullMQ defined on this connection (~75 µs a read).
    const [hash, pause, upstream, budgetHold] = await Promise.all([
      this.redis.hgetall(this.keys.job(jobId)),
      this.redis.get(this.keys.submitPause),
      this.redis.hgetall(this.keys.upstreamHealth),
      this.redis.get(this.keys.budgetHold(tenant)),
    ]);
    // A job being deleted (in chunks) is gone for callers from the delete's first step.
    if (!hash.id || hash.tenant !== tenant || hash.pending_action === 'delete') return null;
    const job = jobFromHash(hash);
    job.waiting_reason = waitingReason(job, pause, currentUpstreamProblem(upstream, Date.now()), parseBudgetHold(budgetHold));
    return { job, total: job.counts.total, page: hash.page, jobId };
  }

  /**
   * A tenant's jobs, newest first. Job ids sort by creation time, so the index is a ZSET read
   * by lex range; ids of jobs that expired are dropped from it as they are met.
   */
  async listJobs(
    tenant: string,
    opts: { limit: number; after: string | null; status: string | null },
  ): Promise<{ jobs: Job[]; next: string | null }> {
    const indexKey = this.keys.tenantJobs(tenant);
    const jobs: Job[] = [];
    // The same waiting_reason as GET /v1/jobs/{id} shows: one read of the pause for the page.
    const [pause, upstreamHash, budgetHold] = await Promise.all([
      this.redis.get(this.keys.submitPause),
      this.redis.hgetall(this.keys.upstreamHealth),
      this.redis.get(this.keys.budgetHold(tenant)),
    ]);
    const upstream = currentUpstreamProblem(upstreamHash, Date.now());
    const budget = parseBudgetHold(budgetHold);
    let from = opts.after === null ? '+' : `(${opts.after}`;
    let lastScanned: string | null = null;
    // A status filter may skip many jobs: scan in pages, but bound the work of one request.
    for (let round = 0; round < 20 && jobs.length < opts.limit; round++) {
      const ids = await this.redis.zrange(indexKey, from, '-', 'BYLEX', 'REV', 'LIMIT', 0, opts.limit);
      if (ids.length === 0) return { jobs, next: null };
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.keys.job(id));
      const hashes = (await pipeline.exec()) ?? [];
      const gone: string[] = [];
      for (const [i, id] of ids.entries()) {
        const hash = hashes[i]?.[1] as Record<string, string> | undefined;
        if (!hash?.id) {
          gone.push(id);
          continue;
        }
        const job = jobFromHash(hash);
        job.waiting_reason = waitingReason(job, pause, upstream, budget);
        if (opts.status === null || job.status === opts.status) jobs.push(job);
        if (jobs.length === opts.limit) return { jobs, next: id };
      }
      if (gone.length > 0) await this.redis.zrem(indexKey, ...gone);
      if (ids.length < opts.limit) return { jobs, next: null };
      lastScanned = ids[ids.length - 1]!;
      from = `(${lastScanned}`;
    }
    return { jobs, next: lastScanned };
  }

  /**
   * Files from index `start` on, in index order: up to `limit` matching `status`, looking at
   * no more than `scanBudget` files in one call so a sparse filter cannot pin the server.
   * Files are read a few home batches at a time (file-entries.ts), so a page touches only
   * the batches it spans.
   */
  async readFiles(of: JobForFiles, opts: { start: number; limit: number; status: string | null; scanBudget?: number }): Promise<FilePage> {
    const { jobId, total } = of;
    const files: FilePage['files'] = [];
    const budget = opts.scanBudget ?? 10_000;
    if (opts.start >= total) return { files, next: null };
    const page = pageOf(of.page, jobId);
    let index = opts.start;
    while (index < total && files.length < opts.limit && index - opts.start < budget) {
      const span = opts.status === null ? opts.limit - files.length : 5000;
      const last = Math.min(total, index + span) - 1;
      const homes = Array.from({ length: homeOf(last, page) - homeOf(index, page) + 1 }, (_, k) => homeOf(index, page) + k);
      // With a filter, only the batches holding a file of that status are read whole.
      const holding = opts.status === null ? homes : await this.homesWith(jobId, homes, opts.status);
      const records = holding.length === 0 ? new Map<number, FileRecord>() : await readHomes(this.redis, this.keys, jobId, page, holding);
      for (; index <= last; index++) {
        const record = records.get(index);
        if (record === undefined || (opts.status !== null && record.s !== opts.status)) continue;
        files.push({ index, record });
        if (files.length === opts.limit) {
          const nextIndex = index + 1;
          return { files, next: nextIndex < total ? nextIndex : null };
        }
      }
    }
    return { files, next: index < total ? index : null };
  }

  /** Those of the home batches whose files include one of `status` (read from their status letters alone). */
  private async homesWith(jobId: string, homes: readonly number[], status: string): Promise<number[]> {
    const letter = STATUS_LETTERS[status as FileStatus];
    if (letter === undefined) return [];
    const pipeline = this.redis.pipeline();
    for (const h of homes) pipeline.hget(this.keys.batch(jobId, h), 'st');
    const replies = (await pipeline.exec()) ?? [];
    return homes.filter((_, k) => {
      const st = replies[k]?.[1];
      return typeof st === 'string' && st.includes(letter);
    });
  }

  async readFile(of: JobForFiles, index: number): Promise<FileRecord | null> {
    const page = pageOf(of.page, of.jobId);
    const records = await readHomes(this.redis, this.keys, of.jobId, page, [homeOf(index, page)]);
    return records.get(index) ?? null;
  }
}
