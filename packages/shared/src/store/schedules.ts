import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { scheduleFromHash, scheduleRecordFields, type ScheduleRecord, type ScheduleRun } from '../schedules/schedule.js';
import { withScripts } from './commands.js';

/** Sets last_run only on a schedule that still exists: a fire racing a delete must not resurrect it. KEYS: schedule. ARGV: json. */
const RECORD_RUN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_run', ARGV[1])
return 1
`;

/**
 * Writes a schedule and indexes it under its tenant, unless the tenant already has ARGV[1].
 * KEYS: schedule, tenant index. ARGV: max, id, then field/value pairs. Returns 1, or 0 when full.
 */
const CREATE = `
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1
`;

interface ScheduleScripts {
  bsScheduleCreate(schedule: string, index: string, max: number, id: string, ...fields: string[]): Promise<number>;
  bsScheduleRecordRun(schedule: string, json: string): Promise<number>;
}

/** Schedules in Redis: one HASH each, and a per-tenant index read newest first (fires' claims: ClaimStore). */
export class ScheduleStore {
  private readonly redis: Redis & ScheduleScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
  ) {
    this.redis = withScripts<ScheduleScripts>(redis, {
      bsScheduleCreate: { keys: 2, lua: CREATE },
      bsScheduleRecordRun: { keys: 1, lua: RECORD_RUN },
    });
  }

  /** Stores the schedule unless its tenant already has `maxPerTenant`; false then, and nothing is written. */
  async create(rec: ScheduleRecord, maxPerTenant: number): Promise<boolean> {
    const fields = Object.entries(scheduleRecordFields(rec)).flat();
    const created = await this.redis.bsScheduleCreate(
      this.keys.schedule(rec.id),
      this.keys.tenantSchedules(rec.tenant),
      maxPerTenant,
      rec.id,
      ...fields.map(String),
    );
    return created === 1;
  }

  /** Any tenant's schedule: for the worker, which acts on behalf of the schedule's own tenant. */
  async get(scheduleId: string): Promise<ScheduleRecord | null> {
    const hash = await this.redis.hgetall(this.keys.schedule(scheduleId));
    return hash.id ? scheduleFromHash(hash) : null;
  }

  /** The schedule if it belongs to `tenant`; another tenant's reads as missing. */
  async getForTenant(scheduleId: string, tenant: string): Promise<ScheduleRecord | null> {
    const rec = await this.get(scheduleId);
    return rec && rec.tenant === tenant ? rec : null;
  }

  /** A tenant's schedules, newest first (ids sort by creation time), `limit` after the cursor id. */
  async list(tenant: string, opts: { limit: number; after: string | null }): Promise<{ schedules: ScheduleRecord[]; next: string | null }> {
    const from = opts.after === null ? '+' : `(${opts.after}`;
    const ids = await this.redis.zrange(this.keys.tenantSchedules(tenant), from, '-', 'BYLEX', 'REV', 'LIMIT', 0, opts.limit + 1);
    const page = ids.slice(0, opts.limit);
    const pipeline = this.redis.pipeline();
    for (const id of page) pipeline.hgetall(this.keys.schedule(id));
    const hashes = page.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const schedules = hashes
      .map(([, h]) => h as Record<string, string>)
      .filter((h) => h.id)
      .map(scheduleFromHash);
    return { schedules, next: ids.length > opts.limit ? (page[page.length - 1] ?? null) : null };
  }

  /** Removes the schedule and its index entry; false if the tenant has no such schedule. */
  async remove(scheduleId: string, tenant: string): Promise<boolean> {
    if (!(await this.getForTenant(scheduleId, tenant))) return false;
    await this.redis.multi().del(this.keys.schedule(scheduleId)).zrem(this.keys.tenantSchedules(tenant), scheduleId).exec();
    return true;
  }

  async recordRun(scheduleId: string, run: ScheduleRun): Promise<void> {
    await this.redis.bsScheduleRecordRun(this.keys.schedule(scheduleId), JSON.stringify(run));
  }
}
