import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import {
  SCHEDULE_FIRE_OPTIONS,
  fireSchedule,
  newScheduleId,
  toSchedule,
  type FireScheduleDeps,
  type Job,
  type Schedule,
  type ScheduleFirePayload,
  type ScheduleRecord,
  type ScheduleStore,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  TooLargeError,
  ValidationError,
} from '@batchscribe/shared';
import type { ScheduleRequest } from './schedule-intake.js';

export interface ScheduleActionsDeps {
  store: ScheduleStore;
  /** The BullMQ queue the job schedulers live on; the worker consumes their fires. */
  queue: Queue<ScheduleFirePayload>;
  /** For `run`: the api fires the schedule itself, to answer with the job it made. */
  fire: FireScheduleDeps;
  /** Schedules one tenant may have (MAX_SCHEDULES_PER_TENANT). */
  maxPerTenant: number;
  /**
   * Reserves room for one manifest download (its byte limit) in the api's intake budget, or
   * throws a 503 when the api is taking in too much already; the result gives it back.
   */
  reserveManifest: (tenant: string) => () => void;
  clock?: () => Date;
}

const notFound = () => new NotFoundError('No such schedule.');

/** Create, read, delete and run schedules; the only place job schedulers are registered. */
export class ScheduleActions {
  private readonly clock: () => Date;

  constructor(private readonly deps: ScheduleActionsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * The record first, then the scheduler: a fire always finds its schedule. If registering
   * the scheduler fails, the record is taken back, so a failed request leaves nothing.
   */
  async create(tenant: string, req: ScheduleRequest): Promise<Schedule> {
    const now = this.clock();
    const rec: ScheduleRecord = { id: newScheduleId(now.getTime()), tenant, ...req, createdAt: now.toISOString(), lastRun: null };
    if (!(await this.deps.store.create(rec, this.deps.maxPerTenant))) {
      throw new ConflictError(
        `Tenant ${tenant} already has ${this.deps.maxPerTenant} schedules, the most allowed; delete one before creating another.`,
      );
    }
    try {
      await this.deps.queue.upsertJobScheduler(
        rec.id,
        { pattern: rec.cron, tz: rec.timezone },
        { name: 'fire', data: { scheduleId: rec.id }, opts: SCHEDULE_FIRE_OPTIONS },
      );
    } catch (err) {
      await this.deps.store.remove(rec.id, tenant).catch(() => undefined);
      throw err;
    }
    return this.view(rec);
  }

  async get(scheduleId: string, tenant: string): Promise<Schedule> {
    const rec = await this.deps.store.getForTenant(scheduleId, tenant);
    if (!rec) throw notFound();
    return this.view(rec);
  }

  async list(tenant: string, page: { limit: number; after: string | null }): Promise<{ schedules: Schedule[]; next: string | null }> {
    const { schedules, next } = await this.deps.store.list(tenant, page);
    return { schedules: await Promise.all(schedules.map((rec) => this.view(rec))), next };
  }

  /** The scheduler first, then the record: no fire is enqueued for a schedule already gone. */
  async delete(scheduleId: string, tenant: string): Promise<void> {
    if (!(await this.deps.store.getForTenant(scheduleId, tenant))) throw notFound();
    await this.deps.queue.removeJobScheduler(scheduleId);
    await this.deps.store.remove(scheduleId, tenant);
  }

  /** Fires now, outside the cron: a fire of its own, so each call makes a job. */
  async run(scheduleId: string, tenant: string): Promise<Job> {
    const rec = await this.deps.store.getForTenant(scheduleId, tenant);
    if (!rec) throw notFound();
    const release = rec.manifestUrl !== null ? this.deps.reserveManifest(tenant) : () => undefined;
    const at = this.clock();
    let outcome: Awaited<ReturnType<typeof fireSchedule>>;
    try {
      outcome = await fireSchedule(this.deps.fire, scheduleId, { id: `run-${at.getTime()}-${randomUUID().slice(0, 8)}`, at });
    } finally {
      release();
    }
    switch (outcome.kind) {
      case 'created':
        return outcome.job;
      case 'gone':
      case 'replayed':
        throw notFound();
      case 'failed':
        if (outcome.code === 'rate_limited') throw new RateLimitedError(`The schedule made no job: ${outcome.error}.`);
        if (outcome.code === 'manifest_too_many_files') throw new TooLargeError(`The schedule made no job: ${outcome.error}.`);
        throw new ValidationError(`The schedule made no job: ${outcome.error}.`, [{ path: 'manifest_url', message: outcome.error }]);
    }
  }

  private async view(rec: ScheduleRecord): Promise<Schedule> {
    const scheduler = await this.deps.queue.getJobScheduler(rec.id);
    return toSchedule(rec, scheduler?.next ?? null);
  }
}
