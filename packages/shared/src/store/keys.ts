/**
 * The Redis key layout. Every key of batchscribe (and BullMQ's, via `bullPrefix`) carries the
 * hash tag `{QUEUE_PREFIX}`, so all of them hash to one slot and the multi-key scripts and
 * MULTI blocks below are valid on a Redis Cluster.
 */
export interface KeyLayout {
  /** Prefix handed to BullMQ queues and workers. */
  readonly bullPrefix: string;
  /** HASH: the job's fields and its aggregate counts (f_* files, b_* batches). */
  job(jobId: string): string;
  /**
   * HASH: one batch's intent record (state machine of the submit/poll cycle); batch b of the
   * intake is also the home record of files b×page … (b+1)×page-1 (file-entries.ts).
   */
  batch(jobId: string, batch: number): string;
  /** Common start of every key of one job (for tests and tools that scan a job's keys; scripts are given the keys themselves). */
  jobKeyPrefix(jobId: string): string;
  /** The batch keys `from` (inclusive) to `to` (exclusive) of one job, for scripts that must declare them in KEYS. */
  batches(jobId: string, from: number, to: number): string[];
  /** LIST: file indexes a chunked retry found failed and has not yet put into new batches. */
  retryFound(jobId: string): string;
  /** ZSET (all scores 0, ordered by member = time-sortable job id): a tenant's jobs. */
  tenantJobs(tenant: string): string;
  /** ZSET job id → created ms: jobs written but whose batches may not all be enqueued yet. */
  readonly intakePending: string;
  /** ZSET job id → started ms: jobs with a chunked cancel, retry or delete under way (finished by whoever comes next). */
  readonly pendingActions: string;
  /** STRING with TTL: a tenant's job creations in the current intake window. */
  intakeRate(tenant: string): string;
  /** SET of batch keys with a foxapi task open (or being opened): FOXAPI_MAX_INFLIGHT_TASKS. */
  readonly inflight: string;
  /** STRING with TTL: why submits are paused (e.g. upstream_insufficient_quota). */
  readonly submitPause: string;
  /** STRING: GCRA theoretical arrival time of the next foxapi request (µs, Redis clock). */
  readonly rateTat: string;
  /** STRING: until when (µs) every worker holds foxapi requests after a 429. */
  readonly rateBackoff: string;
  /** ZSET BullMQ job id → ms: batches waiting for a free foxapi task slot. */
  readonly parked: string;
  /** STRING with TTL: held by the worker sweeping the blob store for expired jobs' transcripts. */
  readonly blobSweepLock: string;
  /** ZSET worker id → last heartbeat ms. */
  readonly workers: string;
  /** HASH worker id → JSON problem that worker sees with foxapi (unreachable, key refused); refreshed by its heartbeat. */
  readonly upstreamHealth: string;
  /** HASH worker id → JSON snapshot of that worker's metrics and when it was taken (shown summed on the api's /metrics). */
  readonly workerMetrics: string;
  /** Pub/sub channel announcing job changes (message = job id). */
  readonly jobEvents: string;
  /** ZSET job id → 0: jobs that ended with a callback_url whose webhook is not yet queued (outbox). */
  readonly webhookOutbox: string;
  /** STRING with 24 h TTL: an Idempotency-Key of a tenant (by its SHA-256) → body hash and job id. */
  idempotency(tenant: string, keyHash: string): string;
  /** HASH: one schedule (its request, tenant and last run). */
  schedule(scheduleId: string): string;
  /** ZSET (all scores 0, ordered by member = time-sortable schedule id): a tenant's schedules. */
  tenantSchedules(tenant: string): string;
  /** STRING with TTL: one fire of a schedule → the job it made, so a fire processed twice makes one job. */
  scheduleFire(scheduleId: string, fireId: string): string;
  /** HASH: one resumable upload's record (tenant, filename, size, received, status, hash state, times). */
  upload(uploadId: string): string;
  /** SET of job ids whose files use the upload's media (the media stays while it is not empty). */
  uploadJobs(uploadId: string): string;
  /** ZSET upload id → ms after which the upload may be deleted (TTL, or released by its last job). */
  readonly uploadsDue: string;
  /** STRING with TTL: one process's hold on one upload's bytes (a tus lock shared by api replicas). */
  uploadLock(uploadId: string): string;
  /** STRING with TTL: held by the process sweeping uploads that are due. */
  readonly uploadSweepLock: string;
  /** HASH with a 400-day TTL: a tenant's usage on one UTC day `YYYY-MM-DD` (jobs, files, audio_ms, billed_ms, reused). */
  usageDay(tenant: string, day: string): string;
  /** HASH with a 400-day TTL: a tenant's usage in one UTC month `YYYY-MM` (what TENANT_BUDGETS is held against). */
  usageMonth(tenant: string, month: string): string;
  /** HASH `<counter>:<tenant>` → all-time total (files, audio_ms, billed_ms, reused): the usage counters of /metrics. */
  readonly usageTotals: string;
  /** STRING with TTL: a worker holds this tenant's batches because its month's budget is used up (JSON), refreshed while it does. */
  budgetHold(tenant: string): string;
  /**
   * HASH with a TTL: a tenant's reuse index for one period (`period` seconds long, number
   * `epoch` since 1970): fingerprint → file of the job that transcribed it (store/reuse-index.ts).
   */
  reuseIndex(tenant: string, period: number, epoch: number): string;
  /** SET: the jobs that completed files from this job's transcripts (reuse), which keep its blobs while they live. */
  blobRefs(jobId: string): string;
}

export function createKeyLayout(queuePrefix: string): KeyLayout {
  const tag = `{${queuePrefix}}`;
  const jobKeyPrefix = (jobId: string) => `${tag}:job:${jobId}`;
  return {
    bullPrefix: tag,
    job: jobKeyPrefix,
    batch: (jobId, batch) => `${jobKeyPrefix(jobId)}:b:${batch}`,
    batches: (jobId, from, to) => Array.from({ length: Math.max(0, to - from) }, (_, k) => `${jobKeyPrefix(jobId)}:b:${from + k}`),
    jobKeyPrefix,
    retryFound: (jobId) => `${jobKeyPrefix(jobId)}:retry`,
    tenantJobs: (tenant) => `${tag}:tenant:${tenant}:jobs`,
    intakePending: `${tag}:intake:pending`,
    pendingActions: `${tag}:actions:pending`,
    intakeRate: (tenant) => `${tag}:ratelimit:intake:${tenant}`,
    inflight: `${tag}:foxapi:inflight`,
    submitPause: `${tag}:foxapi:pause`,
    rateTat: `${tag}:foxapi:rate:tat`,
    rateBackoff: `${tag}:foxapi:rate:backoff`,
    parked: `${tag}:foxapi:parked`,
    blobSweepLock: `${tag}:blobs:sweep`,
    workers: `${tag}:workers`,
    upstreamHealth: `${tag}:foxapi:health`,
    workerMetrics: `${tag}:workers:metrics`,
    jobEvents: `${tag}:events`,
    webhookOutbox: `${tag}:outbox:webhooks`,
    idempotency: (tenant, keyHash) => `${tag}:idem:${tenant}:${keyHash}`,
    schedule: (scheduleId) => `${tag}:schedule:${scheduleId}`,
    tenantSchedules: (tenant) => `${tag}:tenant:${tenant}:schedules`,
    scheduleFire: (scheduleId, fireId) => `${tag}:schedule:${scheduleId}:fire:${fireId}`,
    upload: (uploadId) => `${tag}:upload:${uploadId}`,
    uploadJobs: (uploadId) => `${tag}:upload:${uploadId}:jobs`,
    uploadsDue: `${tag}:uploads:due`,
    uploadLock: (uploadId) => `${tag}:upload:${uploadId}:lock`,
    uploadSweepLock: `${tag}:uploads:sweep`,
    usageDay: (tenant, day) => `${tag}:usage:${tenant}:day:${day}`,
    usageMonth: (tenant, month) => `${tag}:usage:${tenant}:month:${month}`,
    usageTotals: `${tag}:usage:totals`,
    budgetHold: (tenant) => `${tag}:budget:hold:${tenant}`,
    reuseIndex: (tenant, period, epoch) => `${tag}:reuse:${tenant}:${period}:${epoch}`,
    blobRefs: (jobId) => `${tag}:blobs:refs:${jobId}`,
  };
}
