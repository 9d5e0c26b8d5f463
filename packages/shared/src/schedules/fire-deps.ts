import { ClaimStore } from '../store/claims.js';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { BatchJobPayload } from '../queues.js';
import type { OutboundPolicy } from '../outbound/address-policy.js';
import type { KeyLayout } from '../store/keys.js';
import type { IntakeRateLimit } from '../store/intake-rate-limit.js';
import type { FireScheduleDeps } from './fire-schedule.js';
import { ManifestFetcher } from './manifest.js';
import { ScheduleStore } from '../store/schedules.js';

export interface FireScheduleSettings {
  redis: Redis;
  keys: KeyLayout;
  /** Where a fire's batches are enqueued. */
  batches: Queue<BatchJobPayload>;
  batchSize: number;
  maxFiles: number;
  manifestMaxBytes: number;
  manifestTimeoutMs: number;
  /** The outbound policy and the checking Agent manifests are fetched through (the composition root's). */
  outbound: { policy: OutboundPolicy; dispatcher: Dispatcher };
  /** The scheduler's fires count against the tenant's intake limit; a manual run's request already counted. */
  intakeLimit?: IntakeRateLimit;
  /** Tests hand in their own fetcher. */
  manifests?: ManifestFetcher;
}

/**
 * What a schedule fire needs, built once per process by its composition root: the worker's
 * scheduled fires and the api's `run` use the same construction, so they agree on every limit.
 */
export function createFireScheduleDeps(settings: FireScheduleSettings): FireScheduleDeps {
  const { redis, keys } = settings;
  return {
    claims: new ClaimStore(redis, keys),
    schedules: new ScheduleStore(redis, keys),
    jobs: { redis, keys, queue: settings.batches, batchSize: settings.batchSize },
    manifests:
      settings.manifests ??
      new ManifestFetcher({
        maxBytes: settings.manifestMaxBytes,
        timeoutMs: settings.manifestTimeoutMs,
        maxFiles: settings.maxFiles,
        dispatcher: settings.outbound.dispatcher,
        policy: settings.outbound.policy,
      }),
    ...(settings.intakeLimit ? { intakeLimit: settings.intakeLimit } : {}),
    // A processor silent for longer than a whole manifest fetch (plus margin) has died.
    claimStaleMs: settings.manifestTimeoutMs + 60_000,
  };
}
