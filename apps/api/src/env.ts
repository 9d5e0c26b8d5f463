import { z } from 'zod';
import { apiKeysField, fields, parseEnv } from '@batchscribe/shared';

const schema = z
  .object({
    REDIS_URL: fields.REDIS_URL,
    QUEUE_PREFIX: fields.QUEUE_PREFIX,
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: fields.int(3000, 0, 65_535),
    API_KEYS: apiKeysField.optional(),
    AUTH_DISABLED: fields.bool(false),
    ADMIN_TOKEN: z.string().min(8, { message: 'must be at least 8 characters' }).optional(),
    BATCH_SIZE: fields.BATCH_SIZE,
    MAX_FILES_PER_JOB: fields.MAX_FILES_PER_JOB,
    /** Largest request body; by default room for MAX_FILES_PER_JOB URLs of ~500 bytes each. */
    MAX_BODY_BYTES: fields.int(0, 0),
    JOB_RETENTION_S: fields.JOB_RETENTION_S,
    WEBHOOK_SECRET: z.string().regex(/^whsec_[A-Za-z0-9+/=]+$/, { message: 'must look like whsec_<base64>' }).optional(),
    CALLBACK_HOSTS: z
      .string()
      .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
      .optional(),
    POLL_MIN_MS: fields.int(2_000, 100),
    LOG_LEVEL: fields.LOG_LEVEL,
  })
  .superRefine((env, ctx) => {
    if (!env.API_KEYS && !env.AUTH_DISABLED) {
      ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'is required (or set AUTH_DISABLED=true for a local sandbox)' });
    }
  })
  .transform((env) => ({
    ...env,
    MAX_BODY_BYTES: env.MAX_BODY_BYTES > 0 ? env.MAX_BODY_BYTES : env.MAX_FILES_PER_JOB * 512 + 1024 * 1024,
  }));

export type ApiEnv = z.infer<typeof schema>;

export function loadApiEnv(env: NodeJS.ProcessEnv = process.env): Readonly<ApiEnv> {
  return parseEnv(schema, env);
}
