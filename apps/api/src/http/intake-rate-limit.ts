import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '@batchscribe/shared';
import { ProblemError, sendProblem } from './problem.js';

/**
 * rate-limit-redis loads its scripts once, at construction, and keeps the promises. The api
 * builds its app before its fail-fast Redis connection is up (and must start while Redis is
 * down), so that load can be rejected; the library would then fail every request with the
 * same error, since only NOSCRIPT triggers a reload. This store retries a failed load.
 */
class RetryingRedisStore extends RedisStore {
  override async get(key: string) {
    this.getScriptSha = this.getScriptSha.catch(() => this.loadGetScript());
    return super.get(key);
  }

  override async increment(key: string) {
    this.incrementScriptSha = this.incrementScriptSha.catch(() => this.loadIncrementScript());
    return super.increment(key);
  }
}

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
    store: new RetryingRedisStore({
      prefix: `${deps.keys.bullPrefix}:ratelimit:intake:`,
      sendCommand: (command: string, ...args: string[]) => deps.redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (req, res) => {
      const reset = Number(res.getHeader('retry-after') ?? 60);
      sendProblem(
        res,
        new ProblemError(
          'rate-limited',
          `Tenant ${req.tenant ?? ''} may submit at most ${deps.perMinute} jobs a minute; retry in ${reset} s.`,
          undefined,
          {
            'retry-after': String(reset),
          },
        ),
      );
    },
  });
}
