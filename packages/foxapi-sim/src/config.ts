import { z } from 'zod';
import { MAX_TRANSCRIPT_MINUTES } from './transcripts.js';

export type ResultShape = 'dashscope' | 'url' | 'inline';
export type FaultRouteName = 'submit' | 'poll' | 'download' | 'any';

/** One injected fault. Rules are tried in order; the first that matches a request answers it. */
export interface FaultRule {
  /** Which route the rule applies to; `any` covers submit, poll and download. */
  route: FaultRouteName;
  /** HTTP status to answer with (429, 500, 503, 401, 402, 422, 404, …); 0 = never answer. */
  status: number;
  /** How many requests the rule applies to. Default: unlimited. */
  times?: number;
  /** Sets a `Retry-After` header (seconds) when given. */
  retryAfterS?: number;
  /** Chance 0..1 that a matching request is faulted (seeded RNG). Default 1. */
  probability?: number;
  /** Submit only: create (and bill) the task, then answer with the fault — the ambiguous submit. */
  createTaskAnyway?: boolean;
}

export interface SimOptions {
  /** Accepted Bearer tokens. Default `['sk-sim']`. */
  apiKeys?: string[];
  /** Shape of a completed task's `results[i]` (the client accepts all three). Default `'dashscope'`. */
  resultShape?: ResultShape;
  /** Time from submit to the terminal status, fixed or drawn per task. Default 3000. */
  taskDurationMs?: number | { min: number; max: number };
  /** Multiplicative noise on `task_info.estimated_time` (0 = exact, 0.5 = ±50%). Default 0. */
  estimatedTimeNoise?: number;
  /** Latency added before answering every API and download request. Default 0. */
  latencyMs?: number;
  /** Requests/second cap over `/v1/*` (sliding 1 s window); excess → 429. Default: no cap. */
  maxRps?: number;
  /** Probability 0..1 that a file fails (seeded RNG). Default 0. */
  failRate?: number;
  /** RNG seed for task ids, durations, file failures and fault probabilities. Default 1. */
  seed?: number;
  /** Injected faults. Default none. */
  faults?: FaultRule[];
  /** Base URL of transcription links. Default: the scheme and Host of the poll request. */
  publicBaseUrl?: string;
  /**
   * Minutes of speech in every transcription whose file URL has no `sim-minutes=<n>` marker
   * (an hour ≈ 9,000 timed words, ~0.8 MB). Default: unset, a short 2–4 sentence transcript.
   */
  transcriptMinutes?: number;
  /**
   * Bytes the file-upload store holds. When an upload does not fit, the earliest uploads are
   * evicted (`auto_cleanup` true, the default) or the upload is refused with 403. Default 2 GiB.
   */
  uploadCapacityBytes?: number;
  /**
   * Fetch the first bytes of every submitted media URL (`Range: bytes=0-1023`) and fail files
   * whose URL does not answer 200 or 206 with `InvalidFile.DownloadFailed`. Default false.
   */
  fetchMedia?: boolean;
  /** How long one media fetch may take to answer before its file fails. Default 5000. */
  fetchMediaTimeoutMs?: number;
  /** Millisecond clock. Default `Date.now`. */
  clock?: () => number;
}

export interface ResolvedConfig {
  readonly apiKeys: ReadonlySet<string>;
  readonly resultShape: ResultShape;
  readonly taskDurationMs: { readonly min: number; readonly max: number };
  readonly estimatedTimeNoise: number;
  readonly latencyMs: number;
  readonly maxRps: number | undefined;
  readonly failRate: number;
  readonly seed: number;
  readonly faults: readonly FaultRule[];
  readonly publicBaseUrl: string | undefined;
  readonly transcriptMinutes: number | undefined;
  readonly uploadCapacityBytes: number;
  readonly fetchMedia: boolean;
  readonly fetchMediaTimeoutMs: number;
  readonly clock: () => number;
}

const faultRuleSchema = z.strictObject({
  route: z.enum(['submit', 'poll', 'download', 'any']),
  status: z
    .number()
    .int()
    .refine((s) => s === 0 || (s >= 100 && s <= 599), {
      error: 'status must be 0 (hang) or an HTTP status 100..599',
    }),
  times: z.number().int().min(0).optional(),
  retryAfterS: z.number().int().min(0).optional(),
  probability: z.number().min(0).max(1).optional(),
  createTaskAnyway: z.boolean().optional(),
});

const durationSchema = z.union([
  z.number().int().min(0),
  z
    .strictObject({ min: z.number().int().min(0), max: z.number().int().min(0) })
    .refine((d) => d.min <= d.max, { error: 'min must not exceed max' }),
]);

export const transcriptMinutesSchema = z
  .number({ error: 'must be a number of minutes' })
  .positive({ error: 'must be more than 0 minutes' })
  .max(MAX_TRANSCRIPT_MINUTES, { error: `must be at most ${MAX_TRANSCRIPT_MINUTES} minutes (12 h)` });

/** Every JSON-expressible option; used for programmatic options and `POST /__sim/config`. */
export const simOptionsSchema = z.strictObject({
  apiKeys: z.array(z.string().min(1)).min(1).optional(),
  resultShape: z.enum(['dashscope', 'url', 'inline']).optional(),
  taskDurationMs: durationSchema.optional(),
  estimatedTimeNoise: z.number().min(0).max(1).optional(),
  latencyMs: z.number().int().min(0).optional(),
  maxRps: z.number().positive().optional(),
  failRate: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
  faults: z.array(faultRuleSchema).optional(),
  publicBaseUrl: z.string().refine(isHttpUrl, { error: 'publicBaseUrl must be an http(s) URL' }).optional(),
  transcriptMinutes: transcriptMinutesSchema.optional(),
  uploadCapacityBytes: z.number().int().min(0).optional(),
  fetchMedia: z.boolean().optional(),
  fetchMediaTimeoutMs: z.number().int().positive().optional(),
});

export class SimConfigError extends Error {
  override readonly name = 'SimConfigError';
}

export const DEFAULT_CONFIG: ResolvedConfig = Object.freeze({
  apiKeys: new Set(['sk-sim']),
  resultShape: 'dashscope',
  taskDurationMs: { min: 3000, max: 3000 },
  estimatedTimeNoise: 0,
  latencyMs: 0,
  maxRps: undefined,
  failRate: 0,
  seed: 1,
  faults: [],
  publicBaseUrl: undefined,
  transcriptMinutes: undefined,
  uploadCapacityBytes: 2 * 1024 ** 3,
  fetchMedia: false,
  fetchMediaTimeoutMs: 5_000,
  clock: Date.now,
});

/**
 * Applies `patch` on top of `base`. A key present with the value `undefined` returns that
 * option to its default, so `configure({ maxRps: undefined })` lifts the cap.
 */
export function applyOptions(base: ResolvedConfig, patch: Partial<SimOptions>): ResolvedConfig {
  const { clock, ...jsonPart } = patch;
  const parsed = simOptionsSchema.safeParse(jsonPart);
  if (!parsed.success) throw new SimConfigError(z.prettifyError(parsed.error));
  if (clock !== undefined && typeof clock !== 'function') throw new SimConfigError('clock must be a function');

  const pick = <K extends keyof SimOptions>(key: K): boolean => Object.hasOwn(patch, key);
  const o = parsed.data;
  return Object.freeze({
    apiKeys: pick('apiKeys') ? new Set(o.apiKeys ?? DEFAULT_CONFIG.apiKeys) : base.apiKeys,
    resultShape: pick('resultShape') ? (o.resultShape ?? DEFAULT_CONFIG.resultShape) : base.resultShape,
    taskDurationMs: pick('taskDurationMs') ? toRange(o.taskDurationMs) : base.taskDurationMs,
    estimatedTimeNoise: pick('estimatedTimeNoise') ? (o.estimatedTimeNoise ?? DEFAULT_CONFIG.estimatedTimeNoise) : base.estimatedTimeNoise,
    latencyMs: pick('latencyMs') ? (o.latencyMs ?? DEFAULT_CONFIG.latencyMs) : base.latencyMs,
    maxRps: pick('maxRps') ? o.maxRps : base.maxRps,
    failRate: pick('failRate') ? (o.failRate ?? DEFAULT_CONFIG.failRate) : base.failRate,
    seed: pick('seed') ? (o.seed ?? DEFAULT_CONFIG.seed) : base.seed,
    faults: pick('faults') ? Object.freeze([...(o.faults ?? [])]) : base.faults,
    publicBaseUrl: pick('publicBaseUrl') ? o.publicBaseUrl?.replace(/\/+$/, '') : base.publicBaseUrl,
    transcriptMinutes: pick('transcriptMinutes') ? o.transcriptMinutes : base.transcriptMinutes,
    uploadCapacityBytes: pick('uploadCapacityBytes')
      ? (o.uploadCapacityBytes ?? DEFAULT_CONFIG.uploadCapacityBytes)
      : base.uploadCapacityBytes,
    fetchMedia: pick('fetchMedia') ? (o.fetchMedia ?? DEFAULT_CONFIG.fetchMedia) : base.fetchMedia,
    fetchMediaTimeoutMs: pick('fetchMediaTimeoutMs')
      ? (o.fetchMediaTimeoutMs ?? DEFAULT_CONFIG.fetchMediaTimeoutMs)
      : base.fetchMediaTimeoutMs,
    clock: pick('clock') ? (clock ?? DEFAULT_CONFIG.clock) : base.clock,
  });
}

/** The JSON view of a config, as answered by `GET|POST /__sim/config`. */
export type SimConfigView = Omit<SimOptions, 'clock'>;

export function describeConfig(config: ResolvedConfig): SimConfigView {
  return {
    apiKeys: [...config.apiKeys],
    resultShape: config.resultShape,
    taskDurationMs: { ...config.taskDurationMs },
    estimatedTimeNoise: config.estimatedTimeNoise,
    latencyMs: config.latencyMs,
    ...(config.maxRps === undefined ? {} : { maxRps: config.maxRps }),
    failRate: config.failRate,
    seed: config.seed,
    faults: [...config.faults],
    ...(config.publicBaseUrl === undefined ? {} : { publicBaseUrl: config.publicBaseUrl }),
    ...(config.transcriptMinutes === undefined ? {} : { transcriptMinutes: config.transcriptMinutes }),
    uploadCapacityBytes: config.uploadCapacityBytes,
    fetchMedia: config.fetchMedia,
    fetchMediaTimeoutMs: config.fetchMediaTimeoutMs,
  };
}

function toRange(duration: SimOptions['taskDurationMs']): { min: number; max: number } {
  if (duration === undefined) return DEFAULT_CONFIG.taskDurationMs;
  return typeof duration === 'number' ? { min: duration, max: duration } : { ...duration };
}

export function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

/** Every knob with its value in force; unset ones (no rate cap, no base URL…) read as null. */
export type EffectiveSettings = { [K in keyof SimConfigView]-?: SimConfigView[K] | null };

export function effectiveSettings(config: ResolvedConfig): EffectiveSettings {
  const unset = Object.fromEntries(Object.keys(simOptionsSchema.shape).map((key) => [key, null]));
  return { ...unset, ...describeConfig(config) } as EffectiveSettings;
}
