import { monotonicFactory } from 'ulidx';

/*
 * Time-sortable ids: ULIDs (48-bit ms time then 80 random bits, Crockford base32), lowercased.
 * Tenant indexes are ZSETs read by lex range, so "sorts by id" must mean "sorts by creation
 * time". Ids made in the same millisecond by one process stay in order because ULID's
 * monotonic mode increments the random part instead of drawing it anew.
 */

/** A generator of monotonic ULIDs at the time it is given; a clock that steps back reuses the last time. */
export function monotonicUlid(): (now: number) => string {
  const next = monotonicFactory();
  return (now) => next(now).toLowerCase();
}

const ulid = monotonicUlid();

/** `job_…`: sorts by creation time, which the tenant index relies on for newest-first pages. */
export function newJobId(now: number): string {
  return `job_${ulid(now)}`;
}

/** `sch_…`: sorts by creation time like job ids, for newest-first schedule pages. */
export function newScheduleId(now: number): string {
  return `sch_${ulid(now)}`;
}

/** `upl_…`: a resumable upload; time-sortable like the others, so the id says roughly when it began. */
export function newUploadId(now: number): string {
  return `upl_${ulid(now)}`;
}

/** The shape of an upload id, checked before it names a key or a stored object. */
export const UPLOAD_ID_PATTERN = /^upl_[0-9a-hjkmnp-tv-z]{26}$/;
