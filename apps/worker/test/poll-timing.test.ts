import { describe, expect, it } from '@jest/globals';
import { firstPollDelay, nextPollDelay } from '../src/pipeline/poll-timing.js';
import { DEFAULT_BACKOFF, upstreamBackoffMs } from '../src/pipeline/backoff.js';

const bounds = { pollMinMs: 2_000, pollMaxMs: 60_000 };

describe('poll schedule', () => {
  it('when foxapi estimates 45 s, then the first poll is half-way, at 22.5 s', () => {
    expect(firstPollDelay(45, bounds)).toBe(22_500);
  });

  it('when the estimate is missing, tiny or huge, then the first poll is clamped to the bounds', () => {
    expect(firstPollDelay(null, bounds)).toBe(2_000);
    expect(firstPollDelay(0.1, bounds)).toBe(2_000);
    expect(firstPollDelay(7_200, bounds)).toBe(60_000);
  });

  it('when a poll comes before the estimate, then the next waits for the estimate', () => {
    expect(nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, progress: null, now: 10_000 }, bounds)).toBe(20_000);
  });

  it('when foxapi reports no progress yet (pending), then the estimate decides', () => {
    expect(nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, progress: 0, now: 15_000 }, bounds)).toBe(15_000);
  });

  it('when foxapi reports progress, then the next poll is when that pace says the task ends', () => {
    // At least 40% after 10 s: done by 25 s at that pace, whatever the estimate said.
    expect(nextPollDelay({ submittedAt: 0, estimatedTimeS: 60, progress: 40, now: 10_000 }, bounds)).toBe(15_000);
  });

  it('when progress says the end is near or far away, then the wait stays within bounds', () => {
    expect(nextPollDelay({ submittedAt: 0, estimatedTimeS: 10, progress: 99, now: 10_000 }, bounds)).toBe(2_000);
    expect(nextPollDelay({ submittedAt: 0, estimatedTimeS: 10, progress: 1, now: 10_000 }, bounds)).toBe(60_000);
  });

  it('when the task is overdue, then the wait grows with the time overdue, within bounds', () => {
    const shortly = nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, progress: null, now: 31_000 }, bounds);
    const long = nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, progress: null, now: 30_000 + 200_000 }, bounds);
    const veryLong = nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, progress: null, now: 30_000 + 10_000_000 }, bounds);
    expect(shortly).toBe(2_000);
    expect(long).toBe(50_000);
    expect(veryLong).toBe(60_000);
  });
});

describe('upstream back-off (docs/upstream.md, "Reacting to errors")', () => {
  it('when foxapi sends Retry-After, then it is honoured', () => {
    expect(upstreamBackoffMs(3, 7_000, DEFAULT_BACKOFF, () => 0.5)).toBe(7_000);
  });

  it('when there is no Retry-After, then it grows from 5 s and never passes 60 s', () => {
    expect(upstreamBackoffMs(0, null, DEFAULT_BACKOFF, () => 0)).toBe(2_500);
    expect(upstreamBackoffMs(0, null, DEFAULT_BACKOFF, () => 1)).toBe(5_000);
    expect(upstreamBackoffMs(2, null, DEFAULT_BACKOFF, () => 1)).toBe(20_000);
    expect(upstreamBackoffMs(20, null, DEFAULT_BACKOFF, () => 1)).toBe(60_000);
    expect(upstreamBackoffMs(20, null, DEFAULT_BACKOFF, () => 0)).toBe(30_000);
  });
});

describe('configurable back-off bounds', () => {
  it('when the operator shortens the base and cap, then the back-off follows them', () => {
    const bounds = { baseMs: 100, capMs: 400 };
    expect(upstreamBackoffMs(0, null, bounds, () => 1)).toBe(100);
    expect(upstreamBackoffMs(5, null, bounds, () => 1)).toBe(400);
  });
});
