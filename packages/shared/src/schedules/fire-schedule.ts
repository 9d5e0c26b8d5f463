import type { Redis } from 'ioredis';
import type { KeyLayout } from '../redis/keys.js';
import type { Job } from '../domain/job.js';
import { createJob, type CreateJobDeps } from '../intake/create-job.js';
import type { IntakeRateLimit } from '../intake/intake-rate-limit.js';
import { ManifestError, type ManifestFetcher, type ManifestFile } from './manifest.js';
import { jobRequestFor } from './schedule.js';
import type { ScheduleStore } from './schedule-store.js';

/**
 * One fire of a schedule becomes at most one job, however often it is processed: the fire
 * is claimed under a key derived from the schedule and the fire time, and the job writes its
 * id into that key in the same MULTI that creates it (see createJob's `idempotency`).
 */

/** A fire is remembered this long: far beyond any BullMQ retry of it. */
export const FIRE_MEMORY_S = 7 * 24 * 3600;

/**
 * KEYS: fire key. ARGV: nowMs, ttlS, staleMs. Value "pending|<ms>" while a processor makes the
 * job, then "done|<jobId>". A pending claim older than staleMs belongs to a processor that
 * died; the next one takes it over. Returns {'claimed', token} | {'pending'} | {'done', jobId}.
 */
const CLAIM_FIRE = `
local v = redis.call('GET', KEYS[1])
local mine = 'pending|' .. ARGV[1]
if not v then
  redis.call('SET', KEYS[1], mine, 'EX', ARGV[2])
  return {'claimed', mine}
end
local state, rest = string.match(v, '^([^|]*)|(.*)$')
if state == 'pending' then
  if tonumber(ARGV[1]) - tonumber(rest) > tonumber(ARGV[3]) then
    redis.call('SET', KEYS[1], mine, 'KEEPTTL')
    return {'claimed', mine}
  end
  return {'pending'}
end
return {'done', rest}
`;

/** KEYS: fire key. ARGV: the claim's token. Frees a claim whose fire made no job. */
const RELEASE_FIRE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface FireScheduleDeps {
  redis: Redis;
  keys: KeyLayout;
  schedules: ScheduleStore;
  jobs: CreateJobDeps;
  manifests: ManifestFetcher;
  /** A claim pending longer than this is taken over; must exceed the manifest time limit. */
  claimStaleMs: number;
  /**
   * The tenant's intake rate limit, for fires the scheduler makes: each counts as one
   * submission, and one over the limit makes no job. Absent for `run`, whose request counted.
   */
  intakeLimit?: IntakeRateLimit;
  /** How long a duplicate waits for the first processor before giving up (and being retried). */
  waitMs?: number;
}

/** Which fire: `id` keys its idempotency (the scheduler's fire time, or a manual run's id). */
export interface Fire {
  id: string;
  at: Date;
}

export type FireOutcome =
  | { kind: 'created'; job: Job }
  /** This fire had already made its job (a duplicate processing). */
  | { kind: 'replayed'; jobId: string }
  | { kind: 'failed'; code: ManifestError['code'] | 'rate_limited'; error: string; detail?: string }
  /** The schedule was deleted. */
  | { kind: 'gone' };

/** Thrown when another processor still holds the fire: BullMQ retries it later. */
export class FireInProgressError extends Error {
  override readonly name = 'FireInProgressError';
}

export async function fireSchedule(deps: FireScheduleDeps, scheduleId: string, fire: Fire): Promise<FireOutcome> {
  const schedule = await deps.schedules.get(scheduleId);
  if (!schedule) return { kind: 'gone' };

  const fireKey = deps.keys.scheduleFire(scheduleId, fire.id);
  const claim = await claimFire(deps, fireKey);
  if (claim.kind === 'done') return { kind: 'replayed', jobId: claim.jobId };

  if (deps.intakeLimit) {
    const hit = await deps.intakeLimit.hit(schedule.tenant);
    if (!hit.allowed) {
      await deps.redis.eval(RELEASE_FIRE, 1, fireKey, claim.token);
      const error = `the tenant's intake rate limit (${deps.intakeLimit.perMinute} a minute, INTAKE_RATE_LIMIT_PER_MIN) was reached, so this fire made no job`;
      await deps.schedules.recordRun(scheduleId, { at: fire.at.toISOString(), job_id: null, error });
      return { kind: 'failed', code: 'rate_limited', error };
    }
  }

  let files: ManifestFile[];
  try {
    files = schedule.fileUrls ? schedule.fileUrls.map((url) => ({ url })) : await deps.manifests.fetch(schedule.manifestUrl ?? '');
  } catch (err) {
    await deps.redis.eval(RELEASE_FIRE, 1, fireKey, claim.token);
    if (!(err instanceof ManifestError)) throw err;
    await deps.schedules.recordRun(scheduleId, { at: fire.at.toISOString(), job_id: null, error: err.message });
    return { kind: 'failed', code: err.code, error: err.message, ...(err.detail ? { detail: err.detail } : {}) };
  }

  let job: Job;
  try {
    job = await createJob(deps.jobs, schedule.tenant, jobRequestFor(schedule, files), {
      scheduleId,
      idempotency: { key: fireKey, value: (jobId) => `done|${jobId}` },
    });
  } catch (err) {
    await deps.redis.eval(RELEASE_FIRE, 1, fireKey, claim.token).catch(() => undefined);
    throw err;
  }
  await deps.schedules.recordRun(scheduleId, { at: fire.at.toISOString(), job_id: job.id, error: null });
  return { kind: 'created', job };
}

async function claimFire(
  deps: FireScheduleDeps,
  fireKey: string,
): Promise<{ kind: 'claimed'; token: string } | { kind: 'done'; jobId: string }> {
  const deadline = Date.now() + (deps.waitMs ?? 10_000);
  for (;;) {
    const [word, value] = (await deps.redis.eval(CLAIM_FIRE, 1, fireKey, Date.now(), FIRE_MEMORY_S, deps.claimStaleMs)) as [
      string,
      string?,
    ];
    if (word === 'claimed' && value) return { kind: 'claimed', token: value };
    if (word === 'done' && value) return { kind: 'done', jobId: value };
    if (Date.now() > deadline) throw new FireInProgressError(`fire ${fireKey} is still being processed elsewhere`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
