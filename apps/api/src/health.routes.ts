import { Router } from 'express';
import type { Redis } from 'ioredis';
import { FoxapiBudget, UnavailableError, UpstreamHealthStore, type KeyLayout } from '@batchscribe/shared';

/** A worker counts as alive if it sent a heartbeat within this window. */
export const WORKER_HEARTBEAT_FRESH_MS = 30_000;

export interface Readiness {
  ready: boolean;
  /** Ready, but the workers report foxapi unreachable or refusing the key: jobs wait until it is fixed. */
  degraded: boolean;
  checks: { redis: string; maxmemory_policy: string; workers: string; upstream: string };
}

/** Redis answers, will never evict our keys, and some worker is consuming. */
export async function checkReadiness(redis: Redis, keys: KeyLayout, now = Date.now()): Promise<Readiness> {
  const checks = { redis: 'unknown', maxmemory_policy: 'unknown', workers: 'unknown', upstream: 'unknown' };
  try {
    await redis.ping();
    checks.redis = 'ok';
  } catch (err) {
    checks.redis = `unreachable: ${(err as Error).message}`;
    return { ready: false, degraded: false, checks };
  }
  // INFO works where managed Redis disables CONFIG.
  const info = await redis.info('memory');
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1] ?? 'unknown';
  checks.maxmemory_policy = policy === 'noeviction' ? 'ok' : `is ${policy}; must be noeviction or queued work can be evicted`;
  const fresh = await new FoxapiBudget(redis, keys).freshWorkers(now - WORKER_HEARTBEAT_FRESH_MS);
  checks.workers = fresh > 0 ? `ok (${fresh})` : 'no worker heartbeat in the last 30 s';
  // What the workers' own requests found, refreshed by their heartbeats.
  const upstream = await new UpstreamHealthStore(redis, keys).current(now);
  checks.upstream = upstream ? `degraded: ${upstream.code}: ${upstream.message}` : 'ok';
  return { ready: policy === 'noeviction' && fresh > 0, degraded: upstream !== null, checks };
}

/** `?strict` (any value but `false`/`0`): a degraded upstream fails readiness too. */
function wantsStrict(query: unknown): boolean {
  const value = (query as Record<string, unknown>).strict;
  return value !== undefined && value !== 'false' && value !== '0';
}

export function healthRoutes(deps: { redis: Redis; keys: KeyLayout }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const readiness = await checkReadiness(deps.redis, deps.keys);
    const strict = wantsStrict(req.query);
    // Degraded stays 200 by default: restarting or unrouting the api cannot fix foxapi, and
    // callers can still submit (files wait). A probe that wants to react passes ?strict.
    if (readiness.ready && !(strict && readiness.degraded)) {
      res.json({ status: readiness.degraded ? 'degraded' : 'ready', checks: readiness.checks });
      return;
    }
    const reason = Object.entries(readiness.checks)
      .filter(([, v]) => !v.startsWith('ok'))
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    // The api's error handler writes the 503 problem, as for every other route.
    throw new UnavailableError(`Not ready: ${reason}.`, { retryAfterS: 5, extensions: { checks: readiness.checks } });
  });
  return router;
}
