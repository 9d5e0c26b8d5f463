import { describe, expect, it } from '@jest/globals';
import { EtaEstimator, formatDuration } from '../src/eta.js';

describe('EtaEstimator', () => {
  it('when nothing has finished yet, then there is no estimate', () => {
    const eta = new EtaEstimator();
    eta.add(0, 0, 100);
    eta.add(5_000, 0, 100);
    expect(eta.secondsLeft(5_000)).toBeUndefined();
  });

  it('when files finish at a steady rate, then the estimate is what is left at that rate', () => {
    const eta = new EtaEstimator();
    eta.add(0, 0, 100);
    eta.add(10_000, 10, 100);
    expect(eta.secondsLeft(10_000)).toBe(90);
  });

  it('when progress stalls, then the estimate grows', () => {
    const eta = new EtaEstimator();
    eta.add(0, 0, 100);
    eta.add(10_000, 10, 100);
    expect(eta.secondsLeft(20_000)).toBe(180);
  });

  it('when a retry puts files back (done goes down), then it starts over', () => {
    const eta = new EtaEstimator();
    eta.add(0, 0, 10);
    eta.add(1_000, 10, 10);
    eta.add(2_000, 8, 10);
    expect(eta.secondsLeft(2_000)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [undefined, '--'],
    [0, '0s'],
    [45, '45s'],
    [185, '3m 05s'],
    [7_800, '2h 10m'],
  ])('when %p seconds, then %j', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});
