import { describe, expect, it } from '@jest/globals';
import { WEBHOOK_MAX_DELAY_MS, webhookBackoff } from '../src/webhooks/webhook-backoff.js';

describe('webhook back-off', () => {
  it('when retries pile up, then each waits between half and all of base·2^(n-1)', () => {
    const low = webhookBackoff(30_000, () => 0);
    const high = webhookBackoff(30_000, () => 1);
    expect([1, 2, 3, 4].map(low)).toEqual([15_000, 30_000, 60_000, 120_000]);
    expect([1, 2, 3, 4].map(high)).toEqual([30_000, 60_000, 120_000, 240_000]);
  });

  it('when the exponent grows large, then no wait exceeds the 6 h cap', () => {
    expect(webhookBackoff(30_000, () => 1)(40)).toBe(WEBHOOK_MAX_DELAY_MS);
  });

  it('with the defaults (30 s, 12 attempts), then the 11 retries span roughly 7 to 15 hours', () => {
    const total = (random: () => number) =>
      Array.from({ length: 11 }, (_, i) => webhookBackoff(30_000, random)(i + 1)).reduce((a, b) => a + b, 0);
    expect(total(() => 0) / 3_600_000).toBeGreaterThan(7);
    expect(total(() => 1) / 3_600_000).toBeLessThan(15);
  });
});
