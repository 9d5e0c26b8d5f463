import { describe, expect, it } from '@jest/globals';
import { firstPollDelay, nextPollDelay } from '../src/pipeline/poll-schedule.js';
import { DEFAULT_BACKOFF, upstreamBackoffMs } from '../src/pipeline/backoff.js';

const bounds = { pollMinMs: 2_000, pollMaxMs: 60_000 };

describe('poll schedule', () => {
  it('when foxapi estimates 45 s, then the first poll is at 45 s', () => {
    expect(firstPollDelay(45, bounds)).toBe(45_000);
  });

  it('when the estimate is missing, tiny or huge, then the first poll is clamped to the bounds', () => {
    expect(firstPollDelay(null, bounds)).toBe(2_000);
    expect(firstPollDelay(0.1, bounds)).toBe(2_000);
    expect(firstPollDelay(3_600, bounds)).toBe(60_000);
  });

  it('when a poll comes before the estimate, then the next waits for the estimate', () => {
    expect(nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, now: 10_000 }, bounds)).toBe(20_000);
  });

  it('when the task is overdue, then the wait grows with the time overdue, within bounds', () => {
    const shortly = nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, now: 31_000 }, bounds);
    const long = nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, now: 30_000 + 200_000 }, bounds);
    const veryLong = nextPollDelay({ submittedAt: 0, estimatedTimeS: 30, now: 30_000 + 10_000_000 }, bounds);
    expect(shortly).toBe(2_000);
    expect(long).toBe(50_000);
    expect(veryLong).toBe(60_000);
  });
});

describe('upstream back-off (foxapi.md decision 4)', () => {
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
