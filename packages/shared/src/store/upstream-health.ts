import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';

/** What a worker found wrong with foxapi, as it tells the api. */
export interface UpstreamProblem {
  /** `upstream_unreachable` (no connection) or `upstream_auth` (the key was refused). */
  code: 'upstream_unreachable' | 'upstream_auth';
  message: string;
  /** When the worker last confirmed it (its heartbeat), ms. */
  at: number;
}

/** A report older than this is from a worker that stopped: it no longer counts. */
export const UPSTREAM_REPORT_FRESH_MS = 30_000;

/**
 * The workers' view of foxapi, one field per worker in one hash. A worker writes its problem
 * when requests fail without a connection (or the key is refused), refreshes it with each
 * heartbeat while it lasts, and deletes it at the first answer foxapi gives. The api reads it
 * for `/readyz` and `waiting_reason`.
 */
export class UpstreamHealthStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  async report(workerId: string, problem: UpstreamProblem): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.upstreamHealth, workerId, JSON.stringify(problem))
      .pexpire(this.keys.upstreamHealth, UPSTREAM_REPORT_FRESH_MS * 2)
      .exec();
  }

  async clear(workerId: string): Promise<void> {
    await this.redis.hdel(this.keys.upstreamHealth, workerId);
  }

  /** The newest fresh problem any worker reports, or null when none does. */
  async current(now: number = Date.now()): Promise<UpstreamProblem | null> {
    return currentUpstreamProblem(await this.redis.hgetall(this.keys.upstreamHealth), now);
  }
}

/** The newest report of `hash` under UPSTREAM_REPORT_FRESH_MS old, or null. */
export function currentUpstreamProblem(hash: Record<string, string>, now: number): UpstreamProblem | null {
  let newest: UpstreamProblem | null = null;
  for (const raw of Object.values(hash)) {
    let problem: UpstreamProblem;
    try {
      problem = JSON.parse(raw) as UpstreamProblem;
    } catch {
      continue;
    }
    if (typeof problem.at !== 'number' || now - problem.at > UPSTREAM_REPORT_FRESH_MS) continue;
    if (newest === null || problem.at > newest.at) newest = problem;
  }
  return newest;
}
