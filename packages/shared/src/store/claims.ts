import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';

/**
 * Claim-once records: an Idempotency-Key of a tenant, and one fire of a schedule. Each is a
 * STRING that says "pending" while one request (or processor) makes the job, then names the
 * job; createJob writes that name in the same MULTI that creates the job (ClaimHandle.value).
 */

/**
 * idempotency claim. KEYS: idem key. ARGV: bodyHash, nowMs, ttlS, staleMs.
 * Value is "<hash>|pending|<ms>" while a request creates the job, then "<hash>|<jobId>".
 * Returns {'claimed'} | {'conflict'} | {'pending'} | {'done', jobId}.
 */
const CLAIM_IDEMPOTENCY = `
local v = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|pending|' .. ARGV[2]
if not v then
  redis.call('SET', KEYS[1], mine, 'EX', ARGV[3])
  return {'claimed'}
end
local hash, state, t = string.match(v, '^([^|]*)|([^|]*)|?(.*)$')
if hash ~= ARGV[1] then return {'conflict'} end
if state == 'pending' then
  if tonumber(ARGV[2]) - tonumber(t) > tonumber(ARGV[4]) then
    redis.call('SET', KEYS[1], mine, 'KEEPTTL')
    return {'claimed'}
  end
  return {'pending'}
end
return {'done', state}
`;

/** KEYS: idem key. Frees a claim still pending (its request failed before creating the job). */
const RELEASE_IDEMPOTENCY = `
local v = redis.call('GET', KEYS[1])
if v and string.find(v, '|pending|', 1, true) then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * KEYS: fire key. ARGV: nowMs, ttlS, staleMs. Value "pending|<ms>" while a processor makes the
 * job, then "done|<jobId>". A pending claim older than staleMs belongs to a processor that
 * died; the next one takes it over. Returns {'claimed', token} | {'pending'} | {'done', jobId}.
 */
const CLAIM_FIRE = `
local v = redis.call('GET', KEYS[1])
local mine = 'pending|' .. ARGV[1]
if not v then
  redis.call('SET', KEYS[1], mine, 'EX', ARGV[2])
  return {'claimed', mine}
end
local state, rest = string.match(v, '^([^|]*)|(.*)$')
if state == 'pending' then
  if tonumber(ARGV[1]) - tonumber(rest) > tonumber(ARGV[3]) then
    redis.call('SET', KEYS[1], mine, 'KEEPTTL')
    return {'claimed', mine}
  end
  return {'pending'}
end
return {'done', rest}
`;

/** KEYS: fire key. ARGV: the claim's token. Frees a claim whose fire made no job. */
const RELEASE_FIRE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface ClaimScripts {
  bsClaimIdempotency(key: string, bodyHash: string, nowMs: number, ttlS: number, staleMs: number): Promise<[string, string?]>;
  bsReleaseIdempotency(key: string): Promise<number>;
  bsClaimFire(key: string, nowMs: number, ttlS: number, staleMs: number): Promise<[string, string?]>;
  bsReleaseFire(key: string, token: string): Promise<number>;
}

/** What createJob writes with the job, in its MULTI: the claim's record now naming the job. Opaque to callers. */
export interface ClaimHandle {
  readonly key: string;
  value(jobId: string): string;
}

export type IdempotencyClaimWord =
  { word: 'claimed'; handle: ClaimHandle } | { word: 'conflict' } | { word: 'pending' } | { word: 'done'; jobId: string };

export type FireClaimWord = { word: 'claimed'; handle: ClaimHandle; token: string } | { word: 'pending' } | { word: 'done'; jobId: string };

export class ClaimStore {
  private readonly redis: Redis & ClaimScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
  ) {
    this.redis = withScripts<ClaimScripts>(redis, {
      bsClaimIdempotency: { keys: 1, lua: CLAIM_IDEMPOTENCY },
      bsReleaseIdempotency: { keys: 1, lua: RELEASE_IDEMPOTENCY },
      bsClaimFire: { keys: 1, lua: CLAIM_FIRE },
      bsReleaseFire: { keys: 1, lua: RELEASE_FIRE },
    });
  }

  /** One try at an Idempotency-Key (by its SHA-256) for a body (by its SHA-256). */
  async claimIdempotency(tenant: string, keyHash: string, bodyHash: string, ttlS: number, staleMs: number): Promise<IdempotencyClaimWord> {
    const key = this.keys.idempotency(tenant, keyHash);
    const [word, jobId] = await this.redis.bsClaimIdempotency(key, bodyHash, Date.now(), ttlS, staleMs);
    if (word === 'claimed') return { word, handle: { key, value: (id) => `${bodyHash}|${id}` } };
    if (word === 'done' && jobId) return { word, jobId };
    if (word === 'conflict') return { word };
    return { word: 'pending' };
  }

  /** Frees a claim whose request failed before creating its job, so a retry can proceed. */
  async releaseIdempotency(handle: ClaimHandle): Promise<void> {
    await this.redis.bsReleaseIdempotency(handle.key);
  }

  /** One try at a fire of a schedule. */
  async claimFire(scheduleId: string, fireId: string, ttlS: number, staleMs: number): Promise<FireClaimWord> {
    const key = this.keys.scheduleFire(scheduleId, fireId);
    const [word, value] = await this.redis.bsClaimFire(key, Date.now(), ttlS, staleMs);
    if (word === 'claimed' && value) return { word, token: value, handle: { key, value: (jobId) => `done|${jobId}` } };
    if (word === 'done' && value) return { word, jobId: value };
    return { word: 'pending' };
  }

  async releaseFire(claim: { handle: ClaimHandle; token: string }): Promise<void> {
    await this.redis.bsReleaseFire(claim.handle.key, claim.token);
  }
}
