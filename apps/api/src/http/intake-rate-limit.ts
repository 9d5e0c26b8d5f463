import type { RequestHandler } from 'express';
import { rateLimit, type ClientRateLimitInfo, type Store } from 'express-rate-limit';
import { INTAKE_WINDOW_MS, type IntakeRateLimit } from '@batchscribe/shared';
import { ProblemError, sendProblem } from './problem.js';

/**
 * express-rate-limit over the shared per-tenant counter, the one the worker's schedule fires
 * also count against. Each call is one EVAL on the tenant's key, which ioredis routes by key
 * (a Redis Cluster included); nothing is loaded into Redis beforehand.
 */
class SharedIntakeStore implements Store {
  readonly localKeys = false;
  constructor(private readonly limit: IntakeRateLimit) {}

  async increment(tenant: string): Promise<ClientRateLimitInfo> {
    const hit = await this.limit.hit(tenant);
    return { totalHits: hit.hits, resetTime: new Date(Date.now() + hit.resetMs) };
  }

  async decrement(tenant: string): Promise<void> {
    await this.limit.undo(tenant);
  }

  async resetKey(tenant: string): Promise<void> {
    await this.limit.reset(tenant);
  }
}

/**
 * Per-tenant limit on intake — job submissions, schedule creations and runs — counted in
 * Redis so every api replica (and every worker firing schedules) shares it. Answers 429
 * problem+json with Retry-After and the IETF RateLimit headers (draft 8). Reads are not
 * limited: they are cheap and O(1).
 */
export function intakeRateLimit(limit: IntakeRateLimit): RequestHandler {
  if (limit.perMinute <= 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: INTAKE_WINDOW_MS,
    limit: limit.perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => req.tenant ?? 'anonymous',
    store: new SharedIntakeStore(limit),
    handler: (req, res) => {
      const reset = Number(res.getHeader('retry-after') ?? 60);
      sendProblem(
        res,
        new ProblemError(
          'rate-limited',
          `Tenant ${req.tenant ?? ''} may make at most ${limit.perMinute} intake requests (jobs, schedule creations and runs) a minute; retry in ${reset} s.`,
          undefined,
          { 'retry-after': String(reset) },
        ),
      );
    },
  });
}
