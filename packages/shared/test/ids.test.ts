import { describe, expect, it } from '@jest/globals';
import { monotonicUlid, newScheduleId } from '../src/domain/ids.js';

describe('time-sortable ids', () => {
  it('when many ids are made in one millisecond, then they still sort in the order they were made', () => {
    const next = monotonicUlid();
    const ids = Array.from({ length: 1_000 }, () => next(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('when the clock steps back, then ids keep increasing', () => {
    const next = monotonicUlid();
    const a = next(2_000);
    const b = next(1_000);
    expect(b > a).toBe(true);
  });

  it('when time moves on, then the time part sorts them and the format is the ULID alphabet', () => {
    expect(newScheduleId(1_000) < newScheduleId(2_000)).toBe(true);
    expect(newScheduleId(Date.now())).toMatch(/^sch_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
  });
});
