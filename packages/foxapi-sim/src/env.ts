import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { transcriptMinutesSchema, type SimOptions } from './config.js';

/** What `main.ts` runs with, parsed once from the environment. */
export interface SimEnv {
  readonly port: number;
  readonly host: string;
  readonly options: SimOptions;
}

export class SimEnvError extends Error {
  override readonly name = 'SimEnvError';

  constructor(
    message: string,
    /** The environment variables that were rejected. */
    readonly variables: string[],
  ) {
    super(message);
  }
}

const number = z.coerce.number({ error: 'must be a number' });

/** `3000` (fixed) or `1000-5000` (drawn per task). */
const duration = z
  .string()
  .regex(/^\d+(-\d+)?$/, { error: 'must be milliseconds like 3000 or a range like 1000-5000' })
  .transform((value) => {
    const [min = 0, max = min] = value.split('-').map(Number);
    return min === max ? min : { min, max };
  })
  .refine((value) => typeof value === 'number' || value.min <= value.max, {
    error: 'range minimum must not exceed its maximum',
  });

const envSchema = z.object({
  SIM_PORT: number.pipe(z.number().int().min(0).max(65535)).default(4010),
  SIM_HOST: z.string().default('127.0.0.1'),
  SIM_API_KEYS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string()).min(1, { error: 'must list at least one key' }))
    .optional(),
  SIM_RESULT_SHAPE: z.enum(['dashscope', 'url', 'inline']).optional(),
  SIM_TASK_DURATION_MS: duration.optional(),
  SIM_FAIL_RATE: number.pipe(z.number().min(0).max(1)).optional(),
  SIM_MAX_RPS: number.pipe(z.number().positive()).optional(),
  SIM_LATENCY_MS: number.pipe(z.number().int().min(0)).optional(),
  SIM_SEED: number.pipe(z.number().int()).optional(),
  SIM_PUBLIC_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  SIM_TRANSCRIPT_MINUTES: number.pipe(transcriptMinutesSchema).optional(),
  SIM_UPLOAD_CAPACITY_BYTES: number.pipe(z.number().int().min(0)).optional(),
  SIM_FETCH_MEDIA: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  SIM_FETCH_MEDIA_TIMEOUT_MS: number.pipe(z.number().int().positive()).optional(),
});

/** Parses the `SIM_*` variables; throws a SimEnvError naming each bad variable. Empty = unset. */
export function parseSimEnv(env: Record<string, string | undefined>): SimEnv {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? 'environment'),
      message: issue.message,
    }));
    throw new SimEnvError(
      problems.map((p) => `${p.variable}: ${p.message}`).join('; '),
      problems.map((p) => p.variable),
    );
  }
  const e = parsed.data;
  const options: SimOptions = {
    ...(e.SIM_API_KEYS === undefined ? {} : { apiKeys: e.SIM_API_KEYS }),
    ...(e.SIM_RESULT_SHAPE === undefined ? {} : { resultShape: e.SIM_RESULT_SHAPE }),
    ...(e.SIM_TASK_DURATION_MS === undefined ? {} : { taskDurationMs: e.SIM_TASK_DURATION_MS }),
    ...(e.SIM_FAIL_RATE === undefined ? {} : { failRate: e.SIM_FAIL_RATE }),
    ...(e.SIM_MAX_RPS === undefined ? {} : { maxRps: e.SIM_MAX_RPS }),
    ...(e.SIM_LATENCY_MS === undefined ? {} : { latencyMs: e.SIM_LATENCY_MS }),
    ...(e.SIM_SEED === undefined ? {} : { seed: e.SIM_SEED }),
    ...(e.SIM_PUBLIC_BASE_URL === undefined ? {} : { publicBaseUrl: e.SIM_PUBLIC_BASE_URL }),
    ...(e.SIM_TRANSCRIPT_MINUTES === undefined ? {} : { transcriptMinutes: e.SIM_TRANSCRIPT_MINUTES }),
    ...(e.SIM_UPLOAD_CAPACITY_BYTES === undefined ? {} : { uploadCapacityBytes: e.SIM_UPLOAD_CAPACITY_BYTES }),
    ...(e.SIM_FETCH_MEDIA === undefined ? {} : { fetchMedia: e.SIM_FETCH_MEDIA === 'true' }),
    ...(e.SIM_FETCH_MEDIA_TIMEOUT_MS === undefined ? {} : { fetchMediaTimeoutMs: e.SIM_FETCH_MEDIA_TIMEOUT_MS }),
  };
  return Object.freeze({ port: e.SIM_PORT, host: e.SIM_HOST, options: Object.freeze(options) });
}

/** Every `SIM_*` variable the simulator reads, from its schema. */
export const SIM_ENV_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/**
 * `SIM_*` variables the simulator does not read, each with the nearest name it does (when that
 * is near enough to be a typo): `SIM_FAILRATE=0.5` would otherwise run with no failures.
 */
export function unknownSimVariables(env: Record<string, string | undefined>): Array<{ name: string; suggestion: string | null }> {
  const known = new Set(SIM_ENV_VARIABLES);
  return Object.keys(env)
    .filter((name) => name.toUpperCase().startsWith('SIM_') && !known.has(name))
    .sort()
    .map((name) => {
      const candidate = closest(name.toUpperCase(), [...SIM_ENV_VARIABLES]);
      const near = distance(name.toUpperCase(), candidate) <= Math.max(2, Math.floor(name.length / 3));
      return { name, suggestion: near ? candidate : null };
    });
}
