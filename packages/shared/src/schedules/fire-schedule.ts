import type { Job } from '../domain/job.js';
import { createJob, type CreateJobDeps } from '../intake/create-job.js';
import type { IntakeRateLimit } from '../store/intake-rate-limit.js';
import { ManifestError, type ManifestFetcher, type ManifestFile } from './manifest.js';
import { jobRequestFor } from './schedule.js';
import type { ScheduleStore } from '../store/schedules.js';
import type { ClaimStore, FireClaimWord } from '../store/claims.js';

/**
 * One fire of a schedule becomes at most one job, however often it is processed: the fire
 * is claimed under a key derived from the schedule and the fire time, and the job writes its
 * id into that key in the same MULTI that creates it (see createJob's `idempotency`).
 */

/** A fire is remembered this long: far beyond any BullMQ retry of it. */
export const FIRE_MEMORY_S = 7 * 24 * 3600;

export interface FireScheduleDeps {
  /** Claim-once records of fires. */
  claims: ClaimStore;
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

  const claims = deps.claims;
  const claim = await claimFire(deps, claims, scheduleId, fire.id);
  if (claim.word === 'done') return { kind: 'replayed', jobId: claim.jobId };

  if (deps.intakeLimit) {
    const hit = await deps.intakeLimit.hit(schedule.tenant);
    if (!hit.allowed) {
      await claims.releaseFire(claim);
      const error = `the tenant's intake rate limit (${deps.intakeLimit.perMinute} a minute, INTAKE_RATE_LIMIT_PER_MIN) was reached, so this fire made no job`;
      await deps.schedules.recordRun(scheduleId, { at: fire.at.toISOString(), job_id: null, error });
      return { kind: 'failed', code: 'rate_limited', error };
    }
  }

  let files: ManifestFile[];
  try {
    files = schedule.fileUrls ? schedule.fileUrls.map((url) => ({ url })) : await deps.manifests.fetch(schedule.manifestUrl ?? '');
  } catch (err) {
    await claims.releaseFire(claim);
    if (!(err instanceof ManifestError)) throw err;
    await deps.schedules.recordRun(scheduleId, { at: fire.at.toISOString(), job_id: null, error: err.message });
    return { kind: 'failed', code: err.code, error: err.message, ...(err.detail ? { detail: err.detail } : {}) };
  }

  let job: Job;
  try {
    job = await createJob(deps.jobs, schedule.tenant, jobRequestFor(schedule, files), {
      scheduleId,
      idempotency: claim.handle,
    });
  } catch (err) {
    await claims.releaseFire(claim).catch(() => undefined);
    throw err;
  }
  await deps.schedules.recordRun(scheduleId, { at: fire.at.toISOString(), job_id: job.id, error: null });
  return { kind: 'created', job };
}

async function claimFire(
  deps: FireScheduleDeps,
  claims: ClaimStore,
  scheduleId: string,
  fireId: string,
): Promise<Exclude<FireClaimWord, { word: 'pending' }>> {
  const deadline = Date.now() + (deps.waitMs ?? 10_000);
  for (;;) {
    const claim = await claims.claimFire(scheduleId, fireId, FIRE_MEMORY_S, deps.claimStaleMs);
    if (claim.word !== 'pending') return claim;
    if (Date.now() > deadline) throw new FireInProgressError(`fire ${fireId} of schedule ${scheduleId} is still being processed elsewhere`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
