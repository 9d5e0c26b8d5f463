import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';

/**
 * Usage per tenant: what batches cost, counted per UTC day and month and in all-time totals, and
 * the holds a monthly budget (TENANT_BUDGETS) puts on a tenant's submits. The counters are written
 * by FINISH_BATCH with the file counts (usage-scripts.ts); this module names their keys and reads
 * them. README, "Costs".
 */

/** Day and month counters outlive job retention by far: `GET /v1/usage` answers for 400 days back. */
export const USAGE_KEEP_S = 400 * 86_400;

/** The longest range `GET /v1/usage` answers for: every day still kept. */
export const USAGE_MAX_DAYS = 400;

/** What one batch's end adds to its job's usage and its tenant's counters (FINISH_BATCH counts the files itself). */
export interface BatchUsage {
  /** When it ended, ms: names the UTC day and month it counts in (the worker's injected clock). */
  at: number;
  /** Sum of the durations of the files it completed (upstream `original_duration_in_milliseconds`). */
  audioMs: number;
  /** What the task reported as billed (`usage.duration`, in ms); null when it reported nothing. */
  billedMs: number | null;
  /** Files completed from an earlier transcript, with no foxapi call. */
  reused: number;
}

/** `YYYY-MM-DD` (UTC) of an instant. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `YYYY-MM` (UTC) of an instant. */
export function utcMonth(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The first instant (ms) of the UTC month after the one `ms` is in. */
export function nextUtcMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The usage keys and argument FINISH_BATCH takes (KEYS 6-8 and ARGV 8), for the job's tenant.
 * Without usage (a batch failed or cancelled whole) the files it completed are still counted,
 * on the day it ended.
 */
export function finishUsage(keys: KeyLayout, tenant: string, usage: BatchUsage | null): { keys: string[]; arg: string } {
  const at = usage?.at ?? Date.now();
  const day = utcDay(at);
  const arg: Record<string, string | number> = {
    tenant,
    day,
    audio_ms: Math.max(0, Math.round(usage?.audioMs ?? 0)),
    reused: usage?.reused ?? 0,
    keep_s: USAGE_KEEP_S,
  };
  if (usage && usage.billedMs !== null) arg.billed_ms = Math.max(0, Math.round(usage.billedMs));
  return { keys: [keys.usageDay(tenant, day), keys.usageMonth(tenant, utcMonth(at)), keys.usageTotals], arg: JSON.stringify(arg) };
}

/** One row of `GET /v1/usage`. */
export interface UsageDay {
  date: string;
  /** Jobs that had usage counted on that day (a job running past midnight counts on both days). */
  jobs: number;
  files: number;
  audio_seconds: number;
  /** null when no task that ended that day reported a billed figure. */
  billed_seconds: number | null;
  reused_files: number;
}

/** A tenant's all-time usage, for /metrics. */
export interface UsageTotals {
  tenant: string;
  files: number;
  audioSeconds: number;
  billedSeconds: number;
  reusedFiles: number;
}

/** What a worker holding a tenant's batches for its budget tells the api (shown as `waiting_reason`). */
export interface BudgetHold {
  month: string;
  hours: number;
  usedHours: number;
}

const count = (v: string | undefined): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

export class UsageStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  /** The tenant's days from `from` to `to` (inclusive, `YYYY-MM-DD`) that have any usage, in order: one round trip. */
  async days(tenant: string, from: string, to: string): Promise<UsageDay[]> {
    const dates: string[] = [];
    for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end; t += 86_400_000) dates.push(utcDay(t));
    if (dates.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const date of dates) pipeline.hgetall(this.keys.usageDay(tenant, date));
    const answers = (await pipeline.exec()) ?? [];
    const rows: UsageDay[] = [];
    for (const [i, date] of dates.entries()) {
      const [err, hash] = answers[i] ?? [null, {}];
      if (err) throw err;
      const h = hash as Record<string, string>;
      if (Object.keys(h).length === 0) continue;
      rows.push({
        date,
        jobs: count(h.jobs),
        files: count(h.files),
        audio_seconds: count(h.audio_ms) / 1000,
        billed_seconds: h.billed_ms === undefined ? null : count(h.billed_ms) / 1000,
        reused_files: count(h.reused),
      });
    }
    return rows;
  }

  /** Audio transcribed for the tenant in the UTC month `YYYY-MM`, ms. */
  async monthAudioMs(tenant: string, month: string): Promise<number> {
    return count((await this.redis.hget(this.keys.usageMonth(tenant, month), 'audio_ms')) ?? undefined);
  }

  /** Every tenant's all-time totals (tenants with no usage yet are absent). */
  async totals(): Promise<UsageTotals[]> {
    const hash = await this.redis.hgetall(this.keys.usageTotals);
    const byTenant = new Map<string, UsageTotals>();
    for (const [field, value] of Object.entries(hash)) {
      const sep = field.indexOf(':');
      const counter = field.slice(0, sep);
      const tenant = field.slice(sep + 1);
      let t = byTenant.get(tenant);
      if (!t) byTenant.set(tenant, (t = { tenant, files: 0, audioSeconds: 0, billedSeconds: 0, reusedFiles: 0 }));
      if (counter === 'files') t.files = count(value);
      else if (counter === 'audio_ms') t.audioSeconds = count(value) / 1000;
      else if (counter === 'billed_ms') t.billedSeconds = count(value) / 1000;
      else if (counter === 'reused') t.reusedFiles = count(value);
    }
    return [...byTenant.values()].sort((a, b) => a.tenant.localeCompare(b.tenant));
  }

  /**
   * A worker holds the tenant's batches: said for `ttlMs` (Redis's clock, so no process's own
   * clock decides when it lapses), refreshed by each batch it holds. Returns whether it is new.
   */
  async hold(tenant: string, hold: BudgetHold, ttlMs: number): Promise<boolean> {
    const before = await this.redis.set(this.keys.budgetHold(tenant), JSON.stringify(hold), 'PX', Math.max(1, Math.round(ttlMs)), 'GET');
    return before === null;
  }

  /** The tenant's budget let a batch through: nothing is held for it any more. Returns whether something was. */
  async release(tenant: string): Promise<boolean> {
    return (await this.redis.del(this.keys.budgetHold(tenant))) === 1;
  }

  async currentHold(tenant: string): Promise<BudgetHold | null> {
    return parseBudgetHold(await this.redis.get(this.keys.budgetHold(tenant)));
  }
}

/** A budget hold as stored, or null (absent, or unreadable: then it holds nothing the api could explain). */
export function parseBudgetHold(raw: string | null): BudgetHold | null {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as Partial<BudgetHold>;
    if (typeof v.month === 'string' && typeof v.hours === 'number' && typeof v.usedHours === 'number') {
      return { month: v.month, hours: v.hours, usedHours: v.usedHours };
    }
  } catch {
    // fall through
  }
  return null;
}
