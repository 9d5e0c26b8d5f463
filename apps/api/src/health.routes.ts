import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { KeyLayout } from '@batchscribe/shared';

/** A worker counts as alive if it sent a heartbeat within this window. */
export const WORKER_HEARTBEAT_FRESH_MS = 30_000;

export interface Readiness {
  ready: boolean;
  checks: { redis: string; maxmemory_policy: string; workers: string };
}

/** Redis answers, will never evict our keys, and some worker is consuming. */
export async function checkReadiness(redis: Redis, keys: KeyLayout, now = Date.now()): Promise<Readiness> {
  const checks = { redis: 'unknown', maxmemory_policy: 'unknown', workers: 'unknown' };
  try {
    await redis.ping();
    checks.redis = 'ok';
  } catch (err) {
    checks.redis = `unreachable: ${(err as Error).message}`;
    return { ready: false, checks };
  }
  // INFO works where managed Redis disables CONFIG.
  const info = await redis.info('memory');
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1] ?? 'unknown';
  checks.maxmemory_policy = policy === 'noeviction' ? 'ok' : `is ${policy}; must be noeviction or queued work can be evicted`;
  const fresh = await redis.zcount(keys.workers, now - WORKER_HEARTBEAT_FRESH_MS, '+inf');
  checks.workers = fresh > 0 ? `ok (${fresh})` : 'no worker heartbeat in the last 30 s';
  return { ready: policy === 'noeviction' && fresh > 0, checks };
}

export function healthRoutes(deps: { redis: Redis; keys: KeyLayout }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const readiness = await checkReadiness(deps.redis, deps.keys);
    if (readiness.ready) {
      res.json({ status: 'ready', checks: readiness.checks });
      return;
    }
    const reason = Object.entries(readiness.checks)
      .filter(([, v]) => !v.startsWith('ok'))
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    res
      .status(503)
      .type('application/problem+json')
      .set('retry-after', '5')
      .send(
        JSON.stringify({
          type: 'https://batchscribe.dev/problems/unavailable',
          title: 'Service unavailable',
          status: 503,
          detail: `Not ready: ${reason}.`,
          checks: readiness.checks,
        }),
      );
  });
  return router;
}
