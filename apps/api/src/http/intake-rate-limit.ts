import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '@batchscribe/shared';
import { ProblemError, sendProblem } from './problem.js';

/**
 * rate-limit-redis SCRIPT LOADs its Lua once, at construction, and runs it with EVALSHA. That
 * load fails when the api starts before its fail-fast connection is up, and on a Redis Cluster
 * it lands on a random node (a keyless command), so the EVALSHA on the key's node answers
 * NOSCRIPT, and the library's one reload is random again: intermittent 500s. The scripts are
 * kept here instead and sent with EVAL, which ioredis routes by key like any other command; no
 * load ever touches Redis.
 */
function scriptsKeptHere(redis: Redis): (command: string, ...args: string[]) => Promise<RedisReply> {
  const scripts = new Map<string, string>();
  return async (command, ...args) => {
    const [sub, lua] = args;
    if (command.toUpperCase() === 'SCRIPT' && sub?.toUpperCase() === 'LOAD' && lua !== undefined) {
      const sha = createHash('sha1').update(lua).digest('hex');
      scripts.set(sha, lua);
      return sha;
    }
    const known = command.toUpperCase() === 'EVALSHA' ? scripts.get(args[0] ?? '') : undefined;
    if (known !== undefined) return (await redis.eval(known, Number(args[1]), ...args.slice(2))) as RedisReply;
    return (await redis.call(command, ...args)) as RedisReply;
  };
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
    store: new RedisStore({
      prefix: `${deps.keys.bullPrefix}:ratelimit:intake:`,
      sendCommand: scriptsKeptHere(deps.redis),
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
