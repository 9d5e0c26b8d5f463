import { describe, expect, it } from '@jest/globals';
import { chunkIndexes, newJobId } from '../src/jobs/create-job.js';

describe('batching', () => {
  it('when 250 files are split by 100, then batches hold 100, 100 and 50 indexes in order', () => {
    const batches = chunkIndexes(250, 100);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('when the count divides evenly or is below the size, then no empty batch appears', () => {
    expect(chunkIndexes(200, 100).map((b) => b.length)).toEqual([100, 100]);
    expect(chunkIndexes(1, 100)).toEqual([[0]]);
  });

  it('when ids are made in sequence, then they sort by creation time', () => {
    const ids = [newJobId(1_000), newJobId(1_000), newJobId(2_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^job_[0-9a-z]{26}$/);
  });
});
