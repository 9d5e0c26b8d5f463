import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';
import type { ResolvedUpload, UploadRecord, UploadRefusal } from '../uploads/upload.js';

/**
 * Records progress only on an upload still there and not being deleted: a PATCH finishing after
 * a DELETE or a sweep must not bring the record back. KEYS: upload. ARGV: field/value pairs.
 */
const UPDATE_LIVE = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'del') == '1' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * Attaches a ready, live upload to a job: from then on the TTL does not apply (its entry leaves
 * the due set) until the last job releases it. KEYS: upload, its jobs, due set. ARGV: job id, now ms.
 * Returns 'attached' or the refusal.
 */
export const ATTACH_UPLOAD_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
local f = redis.call('HMGET', KEYS[1], 'state', 'del', 'expires')
if f[2] == '1' then return 'expired' end
if f[1] ~= 'ready' then return 'unfinished' end
if redis.call('SCARD', KEYS[2]) == 0 and tonumber(ARGV[2]) >= tonumber(f[3]) then return 'expired' end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], redis.call('HGET', KEYS[1], 'id'))
return 'attached'
`;

/**
 * A job no longer needs the media; when it was the last, the upload is due at once.
 * KEYS: upload, its jobs, due set. ARGV: job id, now ms. Returns jobs left, or -1 when no record.
 */
const RELEASE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('SREM', KEYS[2], ARGV[1])
local left = redis.call('SCARD', KEYS[2])
if left == 0 then redis.call('ZADD', KEYS[3], ARGV[2], redis.call('HGET', KEYS[1], 'id')) end
return left
`;

/**
 * Marks an upload as being deleted, so nothing attaches it meanwhile; refuses one a job uses.
 * With ARGV[1] (now ms) set, only when its due time has come (the sweeper); empty: at once
 * (termination). KEYS: upload, its jobs, due set. ARGV: now ms or '', upload id.
 * Returns 'delete', 'gone' (no record), 'in_use' or 'not_due'.
 */
const BEGIN_DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[2])
  return 'gone'
end
if redis.call('SCARD', KEYS[2]) > 0 then
  -- A job attached it after it fell due (ATTACH takes it off the set; this is a stale entry).
  if ARGV[1] ~= '' then redis.call('ZREM', KEYS[3], ARGV[2]) end
  return 'in_use'
end
if ARGV[1] ~= '' then
  local due = redis.call('ZSCORE', KEYS[3], ARGV[2])
  if due and tonumber(due) > tonumber(ARGV[1]) then return 'not_due' end
end
redis.call('HSET', KEYS[1], 'del', '1')
return 'delete'
`;

/** Renews or frees a lock only for its holder. KEYS: lock. ARGV: token, ms (0 = free). */
const LOCK_HOLDER = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) else redis.call('DEL', KEYS[1]) end
return 1
`;

interface UploadScripts {
  bsUploadUpdateLive(upload: string, ...fields: string[]): Promise<number>;
  bsUploadAttach(upload: string, jobs: string, due: string, jobId: string, now: number): Promise<string>;
  bsUploadRelease(upload: string, jobs: string, due: string, jobId: string, now: number): Promise<number>;
  bsUploadBeginDelete(upload: string, jobs: string, due: string, now: string, id: string): Promise<string>;
  bsUploadLockHolder(lock: string, token: string, ms: number): Promise<number>;
}

/** The part of a record set when the upload is created. */
export type NewUpload = Pick<UploadRecord, 'id' | 'tenant' | 'filename' | 'size' | 'createdAt' | 'expiresAt'>;

/** Where the running SHA-256 stands: the hasher's saved state after `offset` bytes. */
export interface HashProgress {
  offset: number;
  state: Buffer;
}

export type BeginDeleteOutcome = 'delete' | 'gone' | 'in_use' | 'not_due';

/**
 * Upload records in Redis: one HASH per upload (with its running hash state), a SET of the jobs
 * using it, and one ZSET of uploads due for deletion (TTL passed, or released by their last job).
 * The bytes are not here: they are in the blob store (uploadMediaKey).
 */
export class UploadStore {
  private readonly redis: Redis & UploadScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
  ) {
    this.redis = withScripts<UploadScripts>(redis, {
      bsUploadUpdateLive: { keys: 1, lua: UPDATE_LIVE },
      bsUploadAttach: { keys: 3, lua: ATTACH_UPLOAD_LUA },
      bsUploadRelease: { keys: 3, lua: RELEASE },
      bsUploadBeginDelete: { keys: 3, lua: BEGIN_DELETE },
      bsUploadLockHolder: { keys: 1, lua: LOCK_HOLDER },
    });
  }

  /** Writes the record and its TTL entry together: an upload is never without its deadline. */
  async create(rec: NewUpload): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.upload(rec.id), {
        id: rec.id,
        tenant: rec.tenant,
        filename: rec.filename,
        size: rec.size,
        received: 0,
        state: 'uploading',
        created: rec.createdAt,
        expires: rec.expiresAt,
      })
      .zadd(this.keys.uploadsDue, rec.expiresAt, rec.id)
      .exec();
  }

  /** Any tenant's upload (the sweeper, the tus store), or null. */
  async get(uploadId: string): Promise<UploadRecord | null> {
    const [[, hash], [, jobs]] = (await this.redis
      .pipeline()
      .hgetall(this.keys.upload(uploadId))
      .smembers(this.keys.uploadJobs(uploadId))
      .exec()) as [[unknown, Record<string, string>], [unknown, string[]]];
    return hash.id ? recordFromHash(hash, jobs) : null;
  }

  /** The upload if it belongs to `tenant`; another tenant's reads as missing. */
  async getForTenant(tenant: string, uploadId: string): Promise<UploadRecord | null> {
    const rec = await this.get(uploadId);
    return rec && rec.tenant === tenant ? rec : null;
  }

  /** The saved hash state, when it is at `offset` (else the bytes before `offset` were not all hashed here). */
  async hashProgress(uploadId: string): Promise<HashProgress | null> {
    const [offset, state] = await this.redis.hmgetBuffer(this.keys.upload(uploadId), 'hash_offset', 'hash_state');
    if (!offset || !state || state.length === 0) return null;
    return { offset: Number(offset.toString()), state };
  }

  /**
   * Bytes stored so far, and the hash state that covers exactly them (null: no state covers
   * them, the hash is computed from the stored file at the end). False when the record is
   * gone or being deleted.
   */
  async saveProgress(uploadId: string, received: number, hash: HashProgress | null): Promise<boolean> {
    const fields: Array<string | Buffer> = ['received', String(received)];
    fields.push('hash_offset', hash ? String(hash.offset) : '', 'hash_state', hash ? hash.state : '');
    return (await this.redis.bsUploadUpdateLive(this.keys.upload(uploadId), ...(fields as string[]))) === 1;
  }

  /** How far a write that is still running has come (hash state untouched); for reads only. */
  async saveReceived(uploadId: string, received: number): Promise<void> {
    await this.redis.bsUploadUpdateLive(this.keys.upload(uploadId), 'received', String(received));
  }

  /** Every byte is stored and `sha256` is their hash; the hash state is dropped. False when gone. */
  async markReady(uploadId: string, received: number, sha256: string): Promise<boolean> {
    const key = this.keys.upload(uploadId);
    const ok = await this.redis.bsUploadUpdateLive(key, 'received', String(received), 'state', 'ready', 'sha256', sha256);
    if (ok === 1) await this.redis.hdel(key, 'hash_offset', 'hash_state');
    return ok === 1;
  }

  /**
   * For a job that names uploads: each id's record when it is this tenant's and ready at `now`,
   * else why not. One round trip, in the order given.
   */
  async resolveReady(tenant: string, uploadIds: readonly string[], now: number = Date.now()): Promise<ResolvedUpload[]> {
    if (uploadIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of uploadIds) pipeline.hgetall(this.keys.upload(id)).smembers(this.keys.uploadJobs(id));
    const replies = (await pipeline.exec()) ?? [];
    return uploadIds.map((id, i): ResolvedUpload => {
      const hash = replies[2 * i]?.[1] as Record<string, string> | undefined;
      const jobs = (replies[2 * i + 1]?.[1] as string[] | undefined) ?? [];
      if (!hash?.id) return { id, ok: false, reason: 'unknown' };
      const rec = recordFromHash(hash, jobs);
      const reason = refusalOf(rec, tenant, now);
      return reason ? { id, ok: false, reason } : { id, ok: true, upload: rec };
    });
  }

  /**
   * Marks the media as used by `jobId`: the TTL no longer applies until `release`. Checked again
   * here, atomically, so an upload that expired since `resolveReady` is not attached.
   * Attaching twice is a no-op.
   */
  async attachToJob(uploadId: string, jobId: string, now: number = Date.now()): Promise<'attached' | Exclude<UploadRefusal, 'foreign'>> {
    const out = await this.redis.bsUploadAttach(
      this.keys.upload(uploadId),
      this.keys.uploadJobs(uploadId),
      this.keys.uploadsDue,
      jobId,
      now,
    );
    return out as 'attached' | Exclude<UploadRefusal, 'foreign'>;
  }

  /**
   * `jobId`'s files that use the media have ended; when no job uses it any more it is due for
   * deletion at once. Returns how many jobs still use it (-1: no such upload).
   */
  async release(uploadId: string, jobId: string, now: number = Date.now()): Promise<number> {
    return this.redis.bsUploadRelease(this.keys.upload(uploadId), this.keys.uploadJobs(uploadId), this.keys.uploadsDue, jobId, now);
  }

  /** Up to `limit` upload ids whose deletion time has come, earliest first. */
  async due(now: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.uploadsDue, '-inf', now, 'LIMIT', 0, limit);
  }

  /**
   * First step of a deletion: marks the record so nothing attaches it while its bytes go.
   * `now` set: only when due (the sweeper); unset: at once unless a job uses it (termination).
   */
  async beginDelete(uploadId: string, now?: number): Promise<BeginDeleteOutcome> {
    const out = await this.redis.bsUploadBeginDelete(
      this.keys.upload(uploadId),
      this.keys.uploadJobs(uploadId),
      this.keys.uploadsDue,
      now === undefined ? '' : String(now),
      uploadId,
    );
    return out as BeginDeleteOutcome;
  }

  /** Last step of a deletion, once the bytes are gone: the record and its entries. */
  async forget(uploadId: string): Promise<void> {
    await this.redis.multi().del(this.keys.upload(uploadId), this.keys.uploadJobs(uploadId)).zrem(this.keys.uploadsDue, uploadId).exec();
  }

  /** One sweeper per interval across processes. */
  async lockSweep(holder: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.uploadSweepLock, holder, 'PX', ms, 'NX')) === 'OK';
  }

  /** Takes the upload's byte lock for `ms` unless another holder has it. */
  async tryLock(uploadId: string, token: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.uploadLock(uploadId), token, 'PX', ms, 'NX')) === 'OK';
  }

  /** Extends the lock when `token` still holds it. */
  async renewLock(uploadId: string, token: string, ms: number): Promise<boolean> {
    return (await this.redis.bsUploadLockHolder(this.keys.uploadLock(uploadId), token, ms)) === 1;
  }

  /** Frees the lock when `token` still holds it. */
  async unlock(uploadId: string, token: string): Promise<void> {
    await this.redis.bsUploadLockHolder(this.keys.uploadLock(uploadId), token, 0);
  }
}

function refusalOf(rec: UploadRecord, tenant: string, now: number): UploadRefusal | null {
  if (rec.tenant !== tenant) return 'foreign';
  if (rec.deleting || (rec.jobs.length === 0 && now >= rec.expiresAt)) return 'expired';
  if (rec.state !== 'ready') return 'unfinished';
  return null;
}

function recordFromHash(h: Record<string, string>, jobs: string[]): UploadRecord {
  return {
    id: h.id!,
    tenant: h.tenant ?? '',
    filename: h.filename ?? '',
    size: Number(h.size),
    received: Number(h.received ?? 0),
    state: h.state === 'ready' ? 'ready' : 'uploading',
    sha256: h.sha256 || null,
    createdAt: Number(h.created),
    expiresAt: Number(h.expires),
    jobs: jobs.sort(),
    deleting: h.del === '1',
  };
}
