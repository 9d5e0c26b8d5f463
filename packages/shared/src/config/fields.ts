import { z } from 'zod';
import { parseAllowedNets, type AllowedNet } from '../outbound/address-policy.js';
import { LOG_FORMATS } from '../logger.js';

/** Environment fields shared by the api and the worker (README, "Configuration"). */

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` })
    .default(fallback);

const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

export const fields = {
  bool,
  int,
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, { message: 'must be 1-32 letters, digits, "-" or "_"' })
    .default('bs'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json` or `pretty`; unset: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.enum(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join(', ')}` }).optional(),
  BATCH_SIZE: int(100, 1, 100),
  MAX_FILES_PER_JOB: int(100_000, 1, 1_000_000),
  JOB_RETENTION_S: int(604_800, 60),
  FOXAPI_BASE_URL: httpUrl.default('https://api.foxapi.cc'),
  FOXAPI_TIMEOUT_MS: int(30_000, 100),
  /** Standard Webhooks signing key: the api checks it exists, the worker signs with it. */
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]+$/, { message: 'must look like whsec_<base64>' })
    .optional(),
  /** A schedule's manifest: largest size read (50 MiB) and whole-fetch time limit. */
  MANIFEST_MAX_BYTES: int(50 * 1024 * 1024, 1_024),
  MANIFEST_TIMEOUT_MS: int(30_000, 100),
  /** Job submissions, schedule creations, runs and fires a tenant may make per minute, across processes; 0 = no limit. */
  INTAKE_RATE_LIMIT_PER_MIN: int(120, 0),
  /**
   * Networks a callback_url or manifest_url may reach although they are not public
   * (`10.0.0.0/8,::1/128`); default none. parseEnv drops an empty value, so unset and "" agree.
   */
  OUTBOUND_ALLOWED_NETS: z
    .string()
    .transform((raw, ctx): AllowedNet[] => {
      try {
        return parseAllowedNets(raw);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (comma-separated, e.g. 10.0.0.0/8,127.0.0.1/32)` });
        return z.NEVER;
      }
    })
    .default([]),
  httpUrl,
  /** Largest uploaded media file: foxapi's own per-file limit (docs/upstream.md, "File API"). */
  UPLOAD_MAX_BYTES: int(2_147_483_648, 1),
  /** An upload no job uses within this long is deleted. */
  UPLOAD_TTL_S: int(86_400, 60),
  /** How foxapi gets an uploaded file; `auto` = presign with the s3 blob store, else foxapi. */
  MEDIA_HANDOFF: z.enum(['auto', 'presign', 'foxapi'], { message: 'must be "auto", "presign" or "foxapi"' }).default('auto'),
};

export type MediaHandoff = 'presign' | 'foxapi';

/** MEDIA_HANDOFF with `auto` decided: pre-signed URLs need a store that can sign them (s3). */
export function resolveMediaHandoff(setting: 'auto' | MediaHandoff, blobStore: 'fs' | 's3'): MediaHandoff {
  if (setting !== 'auto') return setting;
  return blobStore === 's3' ? 'presign' : 'foxapi';
}

const TENANT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The items of a comma-separated `tenant:value` list, trimmed, split at the first colon or the
 * last; `tenant` is null when what stands before it is no tenant name.
 */
function tenantPairs(raw: string, at: 'first' | 'last'): Array<{ item: string; tenant: string | null; value: string }> {
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((item) => {
      const sep = at === 'first' ? item.indexOf(':') : item.lastIndexOf(':');
      const tenant = item.slice(0, sep).trim();
      return { item, tenant: sep > 0 && TENANT_NAME.test(tenant) ? tenant : null, value: item.slice(sep + 1).trim() };
    });
}

/** `tenant:token,tenant:token` → token → tenant. */
export const apiKeysField = z.string().transform((raw, ctx) => {
  const byToken = new Map<string, string>();
  for (const { tenant, value: token } of tenantPairs(raw, 'first')) {
    if (tenant === null || !token) {
      ctx.addIssue({ code: 'custom', message: 'must be comma-separated tenant:token pairs (tenant: letters, digits, . _ -)' });
      return z.NEVER;
    }
    if (byToken.has(token)) {
      ctx.addIssue({ code: 'custom', message: 'a token appears twice' });
      return z.NEVER;
    }
    byToken.set(token, tenant);
  }
  if (byToken.size === 0) {
    ctx.addIssue({ code: 'custom', message: 'must name at least one tenant:token pair' });
    return z.NEVER;
  }
  return byToken;
});

/**
 * `tenant:hours,tenant:hours` → tenant → hours of audio per calendar month (UTC). Hours may be
 * fractional (`0.5`); `0` lets the tenant have nothing transcribed. Unset: no tenant has a budget.
 */
export const tenantBudgetsField = z
  .string()
  .transform((raw, ctx) => {
    const hours = new Map<string, number>();
    for (const { item, tenant, value } of tenantPairs(raw, 'last')) {
      const n = Number(value);
      if (tenant === null || !/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be comma-separated tenant:hours pairs (tenant: letters, digits, . _ -; hours: a number ≥ 0), got "${item}"`,
        });
        return z.NEVER;
      }
      if (hours.has(tenant)) {
        ctx.addIssue({ code: 'custom', message: `tenant ${tenant} appears twice` });
        return z.NEVER;
      }
      hours.set(tenant, n);
    }
    return hours as ReadonlyMap<string, number>;
  })
  .default(new Map<string, number>());
