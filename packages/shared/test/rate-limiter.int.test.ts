import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { GlobalRateLimiter, SPACING_MARGIN } from '../src/store/rate-limiter.js';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  await redis.quit();
});

const keysFor = () => {
  const id = randomUUID();
  return { tat: `{rl-${id}}:tat`, backoffUntil: `{rl-${id}}:backoff` };
};

describe('global rate limiter (GCRA on Redis time)', () => {
  it('when two requests come at once at 1/s, then the first goes and the second is told to wait a second and the margin', async () => {
    const limiter = new GlobalRateLimiter(redis, keysFor(), 1);
    expect(await limiter.acquire(0)).toBe(0);
    const wait = await limiter.acquire(0);
    expect(wait).toBeGreaterThan(1000);
    expect(wait).toBeLessThanOrEqual(1000 * SPACING_MARGIN);
  });

  it('when two limiters share keys, then they share one budget (as workers in different processes do)', async () => {
    const keys = keysFor();
    const a = new GlobalRateLimiter(redis, keys, 2);
    const b = new GlobalRateLimiter(new Redis(process.env.REDIS_URL!), keys, 2);
    expect(await a.acquire(0)).toBe(0);
    expect(await b.acquire(0)).toBeGreaterThan(400);
  });

  it('when a wait fits in maxWaitMs, then acquire sleeps it and books the request', async () => {
    const slept: number[] = [];
    const limiter = new GlobalRateLimiter(redis, keysFor(), 50, async (ms) => {
      slept.push(ms);
      await new Promise((r) => setTimeout(r, ms));
    });
    for (let i = 0; i < 5; i++) expect(await limiter.acquire(1_000)).toBe(0);
    expect(slept.length).toBeGreaterThanOrEqual(3);
    expect(slept.every((ms) => ms > 0 && ms <= 20 * SPACING_MARGIN)).toBe(true);
  });

  it('when foxapi said 429, then every request is held until the back-off ends, and a shorter back-off never shortens it', async () => {
    const limiter = new GlobalRateLimiter(redis, keysFor(), 1_000);
    await limiter.backOff(5_000);
    await limiter.backOff(100);
    const wait = await limiter.acquire(0);
    expect(wait).toBeGreaterThan(4_000);
    expect(wait).toBeLessThanOrEqual(5_000);
  });
});
