import { randomBytes } from 'node:crypto';

/*
 * Time-sortable ids (the ULID layout: 48-bit ms time then 80 random bits, Crockford base32,
 * lowercased). Tenant indexes are ZSETs read by lex range, so "sorts by id" must mean "sorts
 * by creation time". Ids made in the same millisecond by one process stay in order because
 * the random part is incremented instead of redrawn (ULID's monotonic mode).
 */

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

function freshRandom(): number[] {
  const bytes = randomBytes(RANDOM_CHARS);
  return Array.from(bytes, (b) => b & 31);
}

/** Adds one to a base32 digit array; on overflow (2^80 ids in one ms) draws anew. */
function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i] = next[i]! + 1;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom();
}

function encodeTime(ms: number): string {
  let out = '';
  let rest = Math.floor(ms);
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

/** A generator of monotonic ULIDs; a clock that steps back reuses the last time. */
export function monotonicUlid(): (now: number) => string {
  let lastTime = -1;
  let random: number[] = [];
  return (now) => {
    if (now <= lastTime) {
      random = increment(random);
    } else {
      lastTime = now;
      random = freshRandom();
    }
    return encodeTime(lastTime) + random.map((d) => ALPHABET[d]).join('');
  };
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
