import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';

/**
 * The tenant's intake budget: job submissions, schedule creations and runs (counted by the
 * api) and schedule fires (counted by the worker) share one fixed one-minute window per
 * tenant in Redis, so no path around `POST /v1/jobs` makes more work than the limit allows.
 *
 * KEYS: counter. ARGV: windowMs. Returns {hits, msUntilReset}; a refused request counts too.
 */
const HIT = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
  return { 1, tonumber(ARGV[1]) }
end
return { redis.call('INCR', KEYS[1]), ttl }
`;

export const INTAKE_WINDOW_MS = 60_000;

export interface IntakeHit {
  allowed: boolean;
  hits: number;
  resetMs: number;
}

interface IntakeScripts {
  bsIntakeHit(counter: string, windowMs: number): Promise<[number, number]>;
}

export class IntakeRateLimit {
  private readonly redis: Redis & IntakeScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
    /** 0 = no limit. */
    readonly perMinute: number,
  ) {
    this.redis = withScripts<IntakeScripts>(redis, { bsIntakeHit: { keys: 1, lua: HIT } });
  }

  private key(tenant: string): string {
    return this.keys.intakeRate(tenant);
  }

  async hit(tenant: string): Promise<IntakeHit> {
    if (this.perMinute <= 0) return { allowed: true, hits: 0, resetMs: 0 };
    const [hits, resetMs] = await this.redis.bsIntakeHit(this.key(tenant), INTAKE_WINDOW_MS);
    return { allowed: hits <= this.perMinute, hits, resetMs };
  }

  async undo(tenant: string): Promise<void> {
    if (this.perMinute > 0) await this.redis.decr(this.key(tenant));
  }

  async reset(tenant: string): Promise<void> {
    await this.redis.del(this.key(tenant));
  }
}
