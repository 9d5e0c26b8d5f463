import { z } from 'zod';
import { fields } from '../config/fields.js';
import { whenValid } from '../config/parse-env.js';

/** The blob store's environment, for the api's and the worker's env schemas to spread in. */
export const blobStoreFields = {
  /** `fs`: a directory (one machine, or a volume every process mounts); `s3`: a bucket. */
  BLOB_STORE: z.enum(['fs', 's3'], { message: 'must be "fs" or "s3"' }).default('fs'),
  DATA_DIR: z.string().min(1).default('./data'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a bucket name (3-63 lowercase letters, digits, "." or "-")' })
    .optional(),
  /** Prepended to every key; several deployments can share a bucket under different prefixes. */
  S3_PREFIX: z
    .string()
    .max(512, { message: 'must be at most 512 characters' })
    .regex(/^(?!\/)[^\\\0]*$/, { message: 'must not start with "/" nor contain a backslash or NUL' })
    .default('batchscribe/'),
  /** Unset: AWS itself. */
  S3_ENDPOINT: fields.httpUrl.optional(),
  S3_REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, { message: 'must be a region name such as us-east-1' })
    .default('us-east-1'),
  S3_FORCE_PATH_STYLE: fields.bool(false),
};

export type BlobStoreEnv = z.infer<z.ZodObject<typeof blobStoreFields>>;

/** The blob store variables a cross-field rule reads; pass to `whenValid`. */
export const BLOB_STORE_CROSS_FIELDS = ['BLOB_STORE', 'S3_BUCKET'];

/**
 * The rule a field alone cannot say, for an env schema's `superRefine`:
 * `.superRefine((env, ctx) => checkBlobStoreEnv(env, ctx), whenValid(...BLOB_STORE_CROSS_FIELDS))`.
 */
export function checkBlobStoreEnv(env: Pick<BlobStoreEnv, 'BLOB_STORE' | 'S3_BUCKET'>, ctx: z.RefinementCtx): void {
  if (env.BLOB_STORE === 's3' && !env.S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when BLOB_STORE=s3' });
  }
}

/** The blob store's variables alone, with their cross-field rule (scripts, tests). */
export const blobStoreEnvSchema = z
  .object(blobStoreFields)
  .superRefine((env, ctx) => checkBlobStoreEnv(env, ctx), whenValid(...BLOB_STORE_CROSS_FIELDS));
