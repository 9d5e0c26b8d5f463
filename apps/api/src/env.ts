import { z } from 'zod';
import {
  BLOB_STORE_CROSS_FIELDS,
  apiKeysField,
  blobStoreFields,
  checkBlobStoreEnv,
  fields,
  parseEnv,
  redisClusterNodesField,
  whenValid,
} from '@batchscribe/shared';

const schema = z
  .object({
    REDIS_URL: fields.REDIS_URL,
    /** Redis Cluster seed nodes (`host:port,…`); when set, REDIS_URL is not used. */
    REDIS_CLUSTER_NODES: redisClusterNodesField,
    QUEUE_PREFIX: fields.QUEUE_PREFIX,
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: fields.int(3000, 0, 65_535),
    API_KEYS: apiKeysField.optional(),
    AUTH_DISABLED: fields.bool(false),
    ADMIN_TOKEN: z.string().min(8, { message: 'must be at least 8 characters' }).optional(),
    /** The dashboard shows queues without retry, clean or remove buttons unless this is false. */
    ADMIN_READ_ONLY: fields.bool(true),
    BATCH_SIZE: fields.BATCH_SIZE,
    MAX_FILES_PER_JOB: fields.MAX_FILES_PER_JOB,
    /** Largest request body; by default room for MAX_FILES_PER_JOB URLs of ~500 bytes each. */
    MAX_BODY_BYTES: fields.int(0, 0),
    JOB_RETENTION_S: fields.JOB_RETENTION_S,
    WEBHOOK_SECRET: fields.WEBHOOK_SECRET,
    CALLBACK_HOSTS: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      )
      .optional(),
    /** Non-public networks a callback_url or manifest_url may reach; default none. */
    OUTBOUND_ALLOWED_NETS: fields.OUTBOUND_ALLOWED_NETS,
    /** Schedules one tenant may have; more get 409. */
    MAX_SCHEDULES_PER_TENANT: fields.int(100, 1, 1_000_000),
    /** The shortest gap between two fires a cron may ask for (a 6-field cron can ask for every second). */
    SCHEDULE_MIN_INTERVAL_S: fields.int(60, 1, 60),
    POLL_MIN_MS: fields.int(2_000, 100),
    LOG_LEVEL: fields.LOG_LEVEL,
    LOG_FORMAT: fields.LOG_FORMAT,
    /** `POST /v1/schedules/{id}/run` fetches the manifest in the api: same limits as the worker's fires. */
    MANIFEST_MAX_BYTES: fields.MANIFEST_MAX_BYTES,
    MANIFEST_TIMEOUT_MS: fields.MANIFEST_TIMEOUT_MS,
    /** Comment heartbeat on `GET /v1/jobs/{id}/events` streams. */
    SSE_HEARTBEAT_MS: fields.int(15_000, 100),
    /** Job submissions a tenant may make per minute, across replicas; 0 turns the limit off. */
    INTAKE_RATE_LIMIT_PER_MIN: fields.INTAKE_RATE_LIMIT_PER_MIN,
    /** Request-body bytes of job submissions one api process takes in at once; default 2 × MAX_BODY_BYTES. */
    INTAKE_MAX_INFLIGHT_BYTES: fields.int(0, 0),
    /** Where transcripts live (never in Redis). */
    ...blobStoreFields,
    /** Slack a submission body gets before it must keep INTAKE_BODY_MIN_BYTES_PER_S (else 408); 0 = no pace check. */
    INTAKE_BODY_TIMEOUT_MS: fields.int(10_000, 0),
    /** The slowest average pace, from admission, a submission body may arrive at once its slack is used. */
    INTAKE_BODY_MIN_BYTES_PER_S: fields.int(65_536, 1),
    /** Open `/events` streams one tenant may have on one api process; beyond it 429. */
    SSE_MAX_STREAMS_PER_TENANT: fields.int(10, 1),
    /** Uploads (`/v1/uploads`): the largest file taken, and how long one no job uses is kept. */
    UPLOAD_MAX_BYTES: fields.UPLOAD_MAX_BYTES,
    UPLOAD_TTL_S: fields.UPLOAD_TTL_S,
    /** How often an api looks for uploads whose time is up (one api per interval sweeps). */
    UPLOAD_SWEEP_MS: fields.int(60_000, 100),
    /** Open `/events` streams one api process serves; beyond it 503. */
    SSE_MAX_STREAMS: fields.int(1_000, 1),
  })
  .superRefine(checkBlobStoreEnv, whenValid(...BLOB_STORE_CROSS_FIELDS))
  .superRefine(
    (env, ctx) => {
      if (!env.API_KEYS && !env.AUTH_DISABLED) {
        ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'is required (or set AUTH_DISABLED=true for a local sandbox)' });
      }
    },
    whenValid('API_KEYS', 'AUTH_DISABLED'),
  )
  .transform((env) => {
    const maxBodyBytes = env.MAX_BODY_BYTES > 0 ? env.MAX_BODY_BYTES : env.MAX_FILES_PER_JOB * 512 + 1024 * 1024;
    return {
      ...env,
      MAX_BODY_BYTES: maxBodyBytes,
      INTAKE_MAX_INFLIGHT_BYTES: env.INTAKE_MAX_INFLIGHT_BYTES > 0 ? env.INTAKE_MAX_INFLIGHT_BYTES : 2 * maxBodyBytes,
    };
  });

export type ApiEnv = z.infer<typeof schema>;

/** Every variable the api reads, from its schema: a name outside it (with our prefixes) is warned about. */
export const ENV_VARIABLES: readonly string[] = Object.keys(schema.in.shape);

export function loadApiEnv(env: NodeJS.ProcessEnv = process.env): Readonly<ApiEnv> {
  return parseEnv(schema, env);
}
