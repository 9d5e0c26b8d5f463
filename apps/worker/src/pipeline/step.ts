import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LimitFunction } from 'p-limit';
export type { BackoffBounds } from '@batchscribe/shared';
import type {
  BackoffBounds,
  BatchStore,
  FoxapiClient,
  GlobalRateLimiter,
  KeyLayout,
  MediaHandoff,
  Priority,
  TranscriptPreparer,
  TranscriptStore,
  UploadStore,
  UsageStore,
  BlobStore,
} from '@batchscribe/shared';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { Crash, TestHook } from './crash-points.js';

/** What a processing step asks of the BullMQ processor once it returns. */
export type StepResult =
  /** The batch reached a terminal state (or was already there). */
  | { kind: 'done' }
  /** Come back later without holding a worker slot (moveToDelayed). */
  | { kind: 'later'; delayMs: number; reason: string }
  /** Every foxapi task slot is taken: wait, parked, until a batch ends and frees one. */
  | { kind: 'parked' };

export const done: StepResult = { kind: 'done' };
export const parked: StepResult = { kind: 'parked' };
export const later = (delayMs: number, reason: string): StepResult => ({
  kind: 'later',
  delayMs: Math.max(0, Math.round(delayMs)),
  reason,
});

/** Back-off after upstream failures without Retry-After (see backoff.ts). */

export interface PipelineConfig {
  maxInflightTasks: number;
  submitRetryAmbiguous: boolean;
  pollMinMs: number;
  pollMaxMs: number;
  taskTimeoutMs: number;
  foxapiTimeoutMs: number;
  /** How long a `submitting` claim stays valid (by Redis's clock): a submit still running after this is dead. */
  submitLeaseMs: number;
  /** Back-off after upstream failures without Retry-After. */
  backoff: BackoffBounds;
  /** How long a 401/402 pauses every submit. */
  pauseMs: number;
  /** How soon a batch held by a submit pause looks again (a resumed pause is seen this fast). */
  pauseRecheckMs: number;
  /** Largest result document read; a larger one is unusable (RESULT_MAX_BYTES). */
  resultMaxBytes: number;
  /** TENANT_BUDGETS: tenant → audio hours per calendar month (UTC); a tenant absent has none. */
  budgets: ReadonlyMap<string, number>;
  /** How soon a batch held by its tenant's budget looks again (BUDGET_RECHECK_MS). */
  budgetRecheckMs: number;
}

/** How files from uploads reach foxapi (MEDIA_HANDOFF, resolved), and where their media and records are. */
export interface MediaDeps {
  mode: MediaHandoff;
  /** The blob store the uploads' bytes are in (BLOB_STORE). */
  blobs: BlobStore;
  uploads: UploadStore;
  /** QUEUE_PREFIX: names the uploads' objects (uploadMediaKey). */
  queuePrefix: string;
}

export interface PipelineDeps {
  redis: Redis;
  keys: KeyLayout;
  store: BatchStore;
  /** Transcripts in the blob store. */
  transcripts: TranscriptStore;
  /** The tenants' usage counters (budgets are held against their month) and budget holds. */
  usage: UsageStore;
  /** Parses, normalizes and compresses result documents off the event loop. */
  preparer: TranscriptPreparer;
  /** The worker's bound on result documents held at once, across all its batches (WORKER_DOCUMENTS_IN_FLIGHT). */
  documents: LimitFunction;
  foxapi: FoxapiClient;
  /** Puts new batches of a job on the batch queue (idempotent): those a reuse split makes. */
  enqueue: (jobId: string, batches: number[], priority: Priority) => Promise<void>;
  /** FOXAPI_MAX_RPS across all workers, and the shared back-off after a 429. */
  limiter: GlobalRateLimiter;
  config: PipelineConfig;
  clock: () => number;
  random?: () => number;
  /** Failpoints for the crash tests; a no-op in production. */
  crash: Crash;
  /** Awaited at some failpoints, for in-process tests that change Redis there; absent in production. */
  testHook?: TestHook | undefined;
  /** Files from uploads: how their media goes to foxapi (pipeline/media-handoff.ts). */
  media: MediaDeps;
  /** Counts what the decorated store and limiter cannot see (ambiguous submits). */
  metrics: Pick<WorkerMetrics, 'ambiguousSubmit'>;
}

export interface StepContext {
  deps: PipelineDeps;
  log: Logger;
}
