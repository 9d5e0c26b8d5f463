import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import type { ReuseSource } from '../domain/reuse.js';
import { withScripts } from './commands.js';
import { REUSE_LOOKUP } from './reuse-scripts.js';

/**
 * A tenant's reuse index (docs/architecture.md, "Reuse"): fingerprint of a transcribed file →
 * the job and index that transcribed it, for JOB_RETENTION_S. It is kept in periods of a quarter
 * of the retention, one HASH each (reuse-scripts.ts), that expire whole: an entry is written into
 * the period it is learnt in, and the period's key expires once the last entry it can hold is past
 * the retention. So no entry is ever pruned on its own, and the lookup of a batch reads at most
 * five hashes, in one script.
 */

/** Shortest period: a retention of seconds (tests) still makes periods of a minute. */
const MIN_PERIOD_S = 60;
/** Kept a little past the retention, for clocks that disagree by seconds. */
const EXPIRY_SLACK_S = 60;

/** Length of one period of the index for this retention (s). */
export function reusePeriodS(retentionS: number): number {
  return Math.max(MIN_PERIOD_S, Math.ceil(retentionS / 4));
}

interface ReuseScripts {
  bsReuseLookup(numKeys: number, ...keysAndArgs: (string | number | Buffer)[]): Promise<string[]>;
}

export class ReuseIndex {
  private readonly redis: Redis & ReuseScripts;
  private readonly periodS: number;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
    private readonly retentionS: number,
  ) {
    this.redis = withScripts<ReuseScripts>(redis, { bsReuseLookup: { lua: REUSE_LOOKUP } });
    this.periodS = reusePeriodS(retentionS);
  }

  /** The tenant's period keys that may hold a transcript still within the retention at `nowMs`, newest first. */
  periodKeys(tenant: string, nowMs: number): string[] {
    const now = Math.floor(nowMs / 1000);
    const newest = Math.floor(now / this.periodS);
    const oldest = Math.floor((now - this.retentionS) / this.periodS);
    const out: string[] = [];
    for (let e = newest; e >= Math.max(0, oldest); e--) out.push(this.keys.reuseIndex(tenant, this.periodS, e));
    return out;
  }

  /**
   * For each fingerprint (hex), the newest file of the tenant that transcribed it within the
   * retention, or null: one round trip for the whole batch. The source may have been deleted since:
   * the split step checks that (BatchStore.reuseSplit).
   */
  async lookup(tenant: string, fingerprints: readonly string[], nowMs: number): Promise<Array<ReuseSource | null>> {
    if (fingerprints.length === 0) return [];
    const keys = this.periodKeys(tenant, nowMs);
    const flat = await this.redis.bsReuseLookup(
      keys.length,
      ...keys,
      Math.floor(nowMs / 1000),
      this.retentionS,
      ...fingerprints.map((fp) => Buffer.from(fp, 'hex')),
    );
    return fingerprints.map((_, k) => {
      const jobId = flat[2 * k];
      const index = Number(flat[2 * k + 1]);
      return jobId && Number.isInteger(index) ? { jobId, index } : null;
    });
  }

  /** The key FINISH_BATCH learns into at `nowMs` (the current period's), and its argument for these files (index → hex). */
  learning(tenant: string, nowMs: number, fingerprints: ReadonlyMap<number, string>): { key: string; arg: string } {
    const now = Math.floor(nowMs / 1000);
    const epoch = Math.floor(now / this.periodS);
    const key = this.keys.reuseIndex(tenant, this.periodS, epoch);
    if (fingerprints.size === 0) return { key, arg: '' };
    // The last entry this period can hold is learnt before its end; it is kept for the retention after.
    // A TTL rather than an instant: the clock that names the period may be a test's.
    const ttl = (epoch + 1) * this.periodS + this.retentionS + EXPIRY_SLACK_S - now;
    return { key, arg: JSON.stringify({ at: now, ttl, fps: Object.fromEntries(fingerprints) }) };
  }
}

/**
 * Who keeps a job's blobs (docs/architecture.md, "Reuse"): the jobs that completed files from its
 * transcripts, added by REUSE_SPLIT in the step that makes them read there. A deleted or expired
 * job's blobs are deleted only once none of these is left (blob/release-job-blobs.ts).
 */
export class BlobReferences {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyLayout,
  ) {}

  /**
   * The referrers of `jobId` still in Redis; the others are dropped from its set. No referrer can
   * be added once the job is gone (REUSE_SPLIT checks the source), so an empty answer stays empty.
   */
  async liveReferrers(jobId: string): Promise<string[]> {
    const members = await this.redis.smembers(this.keys.blobRefs(jobId));
    if (members.length === 0) return [];
    const exists = await Promise.all(members.map((id) => this.redis.exists(this.keys.job(id))));
    const gone = members.filter((_, i) => exists[i] === 0);
    if (gone.length > 0) await this.redis.srem(this.keys.blobRefs(jobId), ...gone);
    return members.filter((_, i) => exists[i] === 1);
  }

  /** The job's blobs are gone: so is its set. */
  async forget(jobId: string): Promise<void> {
    await this.redis.del(this.keys.blobRefs(jobId));
  }
}
