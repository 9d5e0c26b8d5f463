import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '@batchscribe/shared';
import { ProblemError, sendProblem } from './problem.js';

/**
 * Per-tenant limit on job submissions, counted in Redis so every api replica shares it.
 * Answers 429 problem+json with Retry-After and the IETF RateLimit headers (draft 8).
 * Reads are not limited: they are cheap and O(1).
 */
export function intakeRateLimit(deps: { redis: Redis; keys: KeyLayout; perMinute: number }): RequestHandler {
  if (deps.perMinute <= 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: 60_000,
    limit: deps.perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => req.tenant ?? 'anonymous',
    store: new RedisStore({
      prefix: `${deps.keys.bullPrefix}:ratelimit:intake:`,
      sendCommand: (command: string, ...args: string[]) => deps.redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (req, res) => {
      const reset = Number(res.getHeader('retry-after') ?? 60);
      sendProblem(
        res,
        new ProblemError('rate-limited', `Tenant ${req.tenant ?? ''} may submit at most ${deps.perMinute} jobs a minute; retry in ${reset} s.`, undefined, {
          'retry-after': String(reset),
        }),
      );
    },
  });
}
