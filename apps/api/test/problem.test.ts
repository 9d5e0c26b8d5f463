import { describe, expect, it } from '@jest/globals';
import {
  ConflictError,
  DamagedRecordError,
  IdempotencyKeyReusedError,
  NotFoundError,
  RateLimitedError,
  TooLargeError,
  UnavailableError,
  ValidationError,
  isDomainError,
} from '@batchscribe/shared';
import { domainProblem } from '../src/http/problem.js';

describe('domain errors at the edge', () => {
  it.each([
    [new NotFoundError('No such job.'), 404, 'not-found'],
    [new ConflictError('finished'), 409, 'conflict'],
    [new ValidationError('bad', [{ path: 'cron', message: 'too often' }]), 422, 'validation-error'],
    [new TooLargeError('too many files'), 413, 'payload-too-large'],
    [new RateLimitedError('slow down'), 429, 'rate-limited'],
    [new IdempotencyKeyReusedError('other body'), 422, 'idempotency-conflict'],
    [new UnavailableError('not ready'), 503, 'unavailable'],
    [new DamagedRecordError('unreadable record'), 500, 'internal'],
  ])('when domain code throws %p, then the handler answers %i %s with its message as detail', (err, status, type) => {
    expect(isDomainError(err)).toBe(true);
    expect(domainProblem(err)).toMatchObject({ status, type, detail: err.message });
  });

  it('when an error carries field errors, a retry delay or extensions, then the problem carries them too', () => {
    expect(domainProblem(new ValidationError('bad', [{ path: 'cron', message: 'too often' }])).errors).toEqual([
      { path: 'cron', message: 'too often' },
    ]);
    expect(domainProblem(new ConflictError('busy', { retryAfterS: 1 })).headers).toEqual({ 'retry-after': '1' });
    const notReady = domainProblem(new UnavailableError('Not ready.', { retryAfterS: 5, extensions: { checks: { redis: 'ok' } } }));
    expect(notReady).toMatchObject({ headers: { 'retry-after': '5' }, extensions: { checks: { redis: 'ok' } } });
  });

  it('when a plain error has a code of its own (a socket error), then it is not mistaken for a domain error', () => {
    expect(isDomainError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isDomainError({ code: 'not_found' })).toBe(false);
  });
});
