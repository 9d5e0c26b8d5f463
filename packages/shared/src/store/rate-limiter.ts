import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';

/**
 * GCRA (the generic cell rate algorithm) over one Redis key, timed by Redis's own clock so
 * every worker process shares one schedule whatever their clocks say. Requests are spaced
 * evenly at 1/rate — no window-edge bursts for foxapi to answer with 429 — and a shared
 * back-off deadline (set when foxapi does answer 429) holds back every worker at once.
 *
 * KEYS: tat, backoffUntil. ARGV: intervalMicros. Returns 0 when a request may go now (and
 * books it), else the milliseconds to wait.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local backoff = tonumber(redis.call('GET', KEYS[2]) or '0')
if backoff > now then return math.ceil((backoff - now) / 1000) end
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat > now then return math.max(1, math.ceil((tat - now) / 1000)) end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(interval / 1000) + 1000)
return 0
`;

/** KEYS: backoffUntil. ARGV: delayMs. Moves the shared deadline later, never earlier. */
const BACK_OFF = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilMicros = now + tonumber(ARGV[1]) * 1000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMicros > current then redis.call('SET', KEYS[1], untilMicros, 'PX', ARGV[1]) end
return 0
`;

/** How much wider than 1/rate requests are spaced (see the constructor). */
export const SPACING_MARGIN = 1.1;

export interface RateLimiterKeys {
  tat: string;
  backoffUntil: string;
}

/** The foxapi request budget's keys in the service's layout. */
export function foxapiRateKeys(keys: KeyLayout): RateLimiterKeys {
  return { tat: keys.rateTat, backoffUntil: keys.rateBackoff };
}

interface RateScripts {
  bsRateAcquire(tat: string, backoffUntil: string, intervalMicros: number): Promise<number>;
  bsRateBackOff(backoffUntil: string, delayMs: number): Promise<number>;
}

export class GlobalRateLimiter {
  private readonly intervalMicros: number;
  private readonly redis: Redis & RateScripts;

  constructor(
    redis: Redis,
    private readonly keys: RateLimiterKeys,
    ratePerSecond: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    // Spaced 10% wider than 1/rate: requests leave on schedule but arrive with the jitter of
    // event loops and networks, and a window counter upstream (foxapi's, the simulator's) sees
    // rate + 1 in some second — a 429 that holds every worker for seconds (docs/upstream.md, "Reacting to errors").
    this.intervalMicros = Math.max(1, Math.round((1_000_000 / ratePerSecond) * SPACING_MARGIN));
    this.redis = withScripts<RateScripts>(redis, {
      bsRateAcquire: { keys: 2, lua: ACQUIRE },
      bsRateBackOff: { keys: 1, lua: BACK_OFF },
    });
  }

  /**
   * Books one request. Waits in place up to `maxWaitMs` (a short wait is cheaper than
   * rescheduling the job); beyond that returns how long to come back after, without booking.
   */
  async acquire(maxWaitMs = 1_000): Promise<number> {
    let waited = 0;
    for (;;) {
      const wait = Number(await this.redis.bsRateAcquire(this.keys.tat, this.keys.backoffUntil, this.intervalMicros));
      if (wait === 0) return 0;
      if (waited + wait > maxWaitMs) return wait;
      await this.sleep(wait);
      waited += wait;
    }
  }

  /** After a 429: every worker holds its requests for `delayMs`. */
  async backOff(delayMs: number): Promise<void> {
    await this.redis.bsRateBackOff(this.keys.backoffUntil, Math.max(1, Math.round(delayMs)));
  }
}
