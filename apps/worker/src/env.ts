import { z } from 'zod';
import {
  BLOB_STORE_CROSS_FIELDS,
  DURABILITY_MODES,
  blobStoreFields,
  checkBlobStoreEnv,
  fields,
  parseEnv,
  redisClusterNodesField,
  whenValid,
  type DurabilitySettings,
} from '@batchscribe/shared';

const schema = z
  .object({
    REDIS_URL: fields.REDIS_URL,
    /** Redis Cluster seed nodes (`host:port,…`); when set, REDIS_URL is not used. */
    REDIS_CLUSTER_NODES: redisClusterNodesField,
    QUEUE_PREFIX: fields.QUEUE_PREFIX,
    /** What a submit claim must reach before foxapi is paid: Redis's acknowledgement, replicas (WAIT), or the AOF on disk (WAITAOF). */
    REDIS_DURABILITY: z.enum(DURABILITY_MODES, { message: `must be one of ${DURABILITY_MODES.join(', ')}` }).default('none'),
    /** Replicas that must acknowledge; default 1 with wait, 0 (the local AOF only) with waitaof. */
    REDIS_WAIT_REPLICAS: z.coerce
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(0, { message: 'must be at least 0' })
      .max(100, { message: 'must be at most 100' })
      .optional(),
    REDIS_WAIT_TIMEOUT_MS: fields.int(1_000, 1, 60_000),
    FOXAPI_BASE_URL: fields.FOXAPI_BASE_URL,
    FOXAPI_API_KEY: z.string({ message: 'is required: the worker cannot call foxapi without it' }).min(1),
    FOXAPI_MAX_RPS: z.coerce
      .number({ message: 'must be a number' })
      .positive({ message: 'must be greater than 0' })
      .max(10_000)
      .default(10),
    FOXAPI_MAX_INFLIGHT_TASKS: fields.int(50, 1, 100_000),
    FOXAPI_TIMEOUT_MS: fields.FOXAPI_TIMEOUT_MS,
    SUBMIT_RETRY_AMBIGUOUS: fields.bool(false),
    /** Back-off after a 429/5xx/timeout without Retry-After: from this, doubling, up to the max. */
    FOXAPI_BACKOFF_BASE_MS: fields.int(5_000, 10),
    FOXAPI_BACKOFF_MAX_MS: fields.int(60_000, 10),
    /** How long a 401/402 pauses submits; the first submit after it is the probe that resumes them. */
    SUBMIT_PAUSE_MS: fields.int(60_000, 100),
    /** While submits are paused (401/402), how often held batches look again. */
    SUBMIT_PAUSE_RECHECK_MS: fields.int(5_000, 100),
    POLL_MIN_MS: fields.int(2_000, 100),
    POLL_MAX_MS: fields.int(60_000, 100),
    TASK_TIMEOUT_MS: fields.int(50_400_000, 1_000),
    WORKER_CONCURRENCY: fields.int(50, 1, 1_000),
    /** BullMQ lock: how long a killed worker's batch waits before another worker takes it over. */
    WORKER_LOCK_MS: fields.int(30_000, 1_000),
    /** A job still pending intake this long after creation lost its api process: the sweeper enqueues it. */
    INTAKE_GRACE_MS: fields.int(30_000, 1_000),
    INTAKE_SWEEP_MS: fields.int(15_000, 100),
    JOB_RETENTION_S: fields.JOB_RETENTION_S,
    /** Result documents one worker holds at once (download to stored), across all its batches. */
    WORKER_DOCUMENTS_IN_FLIGHT: fields.int(8, 1, 1_000),
    /** Largest result document read; a larger one fails its file (an hour of speech is ~0.8 MB). */
    RESULT_MAX_BYTES: fields.int(64 * 1024 * 1024, 1_024),
    /** How often a worker looks for the transcripts of jobs that expired or were deleted. */
    BLOB_SWEEP_MS: fields.int(3_600_000, 100),
    LOG_LEVEL: fields.LOG_LEVEL,
    LOG_FORMAT: fields.LOG_FORMAT,
    /** `GET /metrics` of this worker (Prometheus); 0 = not served. */
    WORKER_METRICS_PORT: fields.int(9464, 0, 65_535),
    /** Schedule fires create jobs here, so they chunk and cap files as the api's intake does. */
    BATCH_SIZE: fields.BATCH_SIZE,
    MAX_FILES_PER_JOB: fields.MAX_FILES_PER_JOB,
    MANIFEST_MAX_BYTES: fields.MANIFEST_MAX_BYTES,
    MANIFEST_TIMEOUT_MS: fields.MANIFEST_TIMEOUT_MS,
    /** Non-public networks a callback_url or manifest_url may reach; checked on every address dialled. */
    OUTBOUND_ALLOWED_NETS: fields.OUTBOUND_ALLOWED_NETS,
    /** Schedule fires count against the tenants' intake limit, shared with the api through Redis. */
    INTAKE_RATE_LIMIT_PER_MIN: fields.INTAKE_RATE_LIMIT_PER_MIN,
    /** Needed only to deliver webhooks; without it deliveries fail (and retry) with a reason saying so. */
    WEBHOOK_SECRET: fields.WEBHOOK_SECRET,
    /** Delivery attempts per webhook; with the default back-off, 12 span about 7-15 hours. */
    WEBHOOK_MAX_ATTEMPTS: fields.int(12, 1, 100),
    /** First retry waits about this long; each later one doubles it (with jitter, capped at 6 h). */
    WEBHOOK_BACKOFF_BASE_MS: fields.int(30_000, 10),
    WEBHOOK_TIMEOUT_MS: fields.int(10_000, 100),
    WEBHOOK_CONCURRENCY: fields.int(10, 1, 1_000),
    /** Where transcripts live (never in Redis). */
    ...blobStoreFields,
    /** How foxapi gets an uploaded file (presign: a pre-signed GET URL of the s3 store; foxapi: its file API). */
    MEDIA_HANDOFF: fields.MEDIA_HANDOFF,
  })
  .superRefine(checkBlobStoreEnv, whenValid(...BLOB_STORE_CROSS_FIELDS))
  .superRefine(
    (env, ctx) => {
      if (env.MEDIA_HANDOFF === 'presign' && env.BLOB_STORE !== 's3') {
        ctx.addIssue({ code: 'custom', path: ['MEDIA_HANDOFF'], message: 'presign needs BLOB_STORE=s3 (only a bucket can sign a URL)' });
      }
    },
    whenValid('MEDIA_HANDOFF', 'BLOB_STORE'),
  )
  .superRefine(
    (env, ctx) => {
      if (env.POLL_MIN_MS > env.POLL_MAX_MS) {
        ctx.addIssue({ code: 'custom', path: ['POLL_MIN_MS'], message: `must not exceed POLL_MAX_MS (${env.POLL_MAX_MS})` });
      }
    },
    whenValid('POLL_MIN_MS', 'POLL_MAX_MS'),
  );

export type WorkerEnv = z.infer<typeof schema>;

/** Every variable the worker reads, from its schema: a name outside it (with our prefixes) is warned about. */
export const ENV_VARIABLES: readonly string[] = Object.keys(schema.shape);

export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): Readonly<WorkerEnv> {
  return parseEnv(schema, env);
}

/** REDIS_DURABILITY and its two companions, with the replica count's per-mode default. */
export function durabilitySettings(env: Readonly<WorkerEnv>): DurabilitySettings {
  const mode = env.REDIS_DURABILITY;
  return { mode, replicas: env.REDIS_WAIT_REPLICAS ?? (mode === 'wait' ? 1 : 0), timeoutMs: env.REDIS_WAIT_TIMEOUT_MS };
}
