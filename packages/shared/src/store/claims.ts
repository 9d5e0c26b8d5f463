import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';

/**
 * Claim-once records: an Idempotency-Key of a tenant, and one fire of a schedule. Each is a
 * STRING that says "pending" while one request (or processor) makes the job, then names the
 * job; createJob writes that name in the same MULTI that creates the job (ClaimHandle.value).
 */

/**
 * The one claim-once script. KEYS: the claim's key. ARGV: fingerprint, nowMs, ttlS, staleMs.
 * The value is "<fingerprint>|pending|<ms>" while one caller makes the job, then
 * "<fingerprint>|<jobId>". The same key with another fingerprint (an Idempotency-Key sent with
 * another body) is a conflict. A pending claim older than staleMs belongs to a caller that
 * died; the next one takes it over. Returns {'claimed', token} | {'conflict'} | {'pending'} | {'done', jobId}.
 */
const CLAIM_ONCE = `
local v = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|pending|' .. ARGV[2]
if not v then
  redis.call('SET', KEYS[1], mine, 'EX', ARGV[3])
  return {'claimed', mine}
end
local fingerprint, state, t = string.match(v, '^([^|]*)|([^|]*)|?(.*)$')
if fingerprint ~= ARGV[1] then return {'conflict'} end
if state == 'pending' then
  if tonumber(ARGV[2]) - (tonumber(t) or 0) > tonumber(ARGV[4]) then
    redis.call('SET', KEYS[1], mine, 'KEEPTTL')
    return {'claimed', mine}
  end
  return {'pending'}
end
return {'done', state}
`;

/** KEYS: the claim's key. ARGV: the claim's token. Frees a claim whose caller made no job (and only that caller's). */
const RELEASE_ONCE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface ClaimScripts {
  bsClaimOnce(key: string, fingerprint: string, nowMs: number, ttlS: number, staleMs: number): Promise<[string, string?]>;
  bsReleaseOnce(key: string, token: string): Promise<number>;
}

/** A schedule fire has no body to compare: every claim of one fire is the same request. */
const FIRE_FINGERPRINT = 'fire';

/** What createJob writes with the job, in its MULTI: the claim's record now naming the job. Opaque to callers. */
export interface ClaimHandle {
  readonly key: string;
  /** What the claim holds while pending; releasing it takes this. */
  readonly token: string;
  value(jobId: string): string;
}

export type IdempotencyClaimWord =
  { word: 'claimed'; handle: ClaimHandle } | { word: 'conflict' } | { word: 'pending' } | { word: 'done'; jobId: string };

export type FireClaimWord = { word: 'claimed'; handle: ClaimHandle } | { word: 'pending' } | { word: 'done'; jobId: string };

type ClaimWord = { word: 'claimed'; handle: ClaimHandle } | { word: 'conflict' } | { word: 'pending' } | { word: 'done'; jobId: string };

export class ClaimStore {
  private readonly redis: Redis & ClaimScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
    private readonly clock: () => number = Date.now,
  ) {
    this.redis = withScripts<ClaimScripts>(redis, {
      bsClaimOnce: { keys: 1, lua: CLAIM_ONCE },
      bsReleaseOnce: { keys: 1, lua: RELEASE_ONCE },
    });
  }

  /** One try at an Idempotency-Key (by its SHA-256) for a body (by its SHA-256). */
  claimIdempotency(tenant: string, keyHash: string, bodyHash: string, ttlS: number, staleMs: number): Promise<IdempotencyClaimWord> {
    return this.claim(this.keys.idempotency(tenant, keyHash), bodyHash, ttlS, staleMs);
  }

  /** Frees a claim whose request failed before creating its job, so a retry can proceed. */
  async releaseIdempotency(handle: ClaimHandle): Promise<void> {
    await this.release(handle);
  }

  /** One try at a fire of a schedule. */
  async claimFire(scheduleId: string, fireId: string, ttlS: number, staleMs: number): Promise<FireClaimWord> {
    const claim = await this.claim(this.keys.scheduleFire(scheduleId, fireId), FIRE_FINGERPRINT, ttlS, staleMs);
    // Every claim of a fire has the same fingerprint: a conflict cannot happen; read it as pending.
    return claim.word === 'conflict' ? { word: 'pending' } : claim;
  }

  async releaseFire(claim: { handle: ClaimHandle }): Promise<void> {
    await this.release(claim.handle);
  }

  private async claim(key: string, fingerprint: string, ttlS: number, staleMs: number): Promise<ClaimWord> {
    const [word, value] = await this.redis.bsClaimOnce(key, fingerprint, this.clock(), ttlS, staleMs);
    if (word === 'claimed' && value) return { word, handle: { key, token: value, value: (jobId) => `${fingerprint}|${jobId}` } };
    if (word === 'done' && value) return { word, jobId: value };
    if (word === 'conflict') return { word };
    return { word: 'pending' };
  }

  private async release(handle: ClaimHandle): Promise<void> {
    await this.redis.bsReleaseOnce(handle.key, handle.token);
  }
}
