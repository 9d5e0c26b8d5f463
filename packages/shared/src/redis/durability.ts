import type { Redis } from 'ioredis';

/**
 * How sure a write must be before money is spent on it. Redis acknowledges a write once it is
 * in memory; with `appendfsync everysec` a host crash loses up to a second of them, and with
 * asynchronous replication a failover loses what the promoted replica had not yet received.
 *
 * - `none`: trust the acknowledgement (strict with `appendfsync always`).
 * - `wait`: `WAIT replicas timeout`: the write reached that many replicas.
 * - `waitaof`: `WAITAOF 1 replicas timeout` (Redis ≥ 7.2): the write is fsynced to the local
 *   AOF, and to that many replicas' AOFs.
 */
export const DURABILITY_MODES = ['none', 'wait', 'waitaof'] as const;
export type DurabilityMode = (typeof DURABILITY_MODES)[number];

export interface DurabilitySettings {
  mode: DurabilityMode;
  /** Replicas that must acknowledge (`wait`) or fsync (`waitaof`). */
  replicas: number;
  /** Longest wait for the acknowledgement; a write not confirmed by then counts as not durable. */
  timeoutMs: number;
}

/** The first Redis with WAITAOF. */
const WAITAOF_SINCE: readonly [number, number] = [7, 2];

/** A Redis that cannot give the durability asked for: the worker must not start on it. */
export class DurabilityUnsupportedError extends Error {
  override readonly name = 'DurabilityUnsupportedError';
}

/**
 * Confirms that the writes sent so far on one connection are durable as configured. WAIT and
 * WAITAOF cover the writes of the connection they are sent on, so the writes to confirm go
 * through `connection` too (a dedicated one: a WAIT blocks its connection until answered).
 */
export class WriteDurability {
  constructor(
    readonly connection: Redis,
    readonly settings: DurabilitySettings,
  ) {}

  get enabled(): boolean {
    return this.settings.mode !== 'none';
  }

  /**
   * True once durable; false when the acknowledgement did not come within the timeout.
   * `routingKey` is a key just written: in a Redis Cluster the WAIT must reach the node that
   * holds it, and a pipeline goes to the node of its keyed command.
   */
  async confirm(routingKey: string): Promise<boolean> {
    const { mode, replicas, timeoutMs } = this.settings;
    if (mode === 'none') return true;
    const pipe = this.connection.pipeline().exists(routingKey);
    if (mode === 'wait') pipe.call('WAIT', replicas, timeoutMs);
    else pipe.call('WAITAOF', 1, replicas, timeoutMs);
    const replies = (await pipe.exec()) ?? [];
    const [err, reply] = replies[1] ?? [new Error('no reply to the durability wait'), null];
    if (err) throw err;
    if (mode === 'wait') return Number(reply) >= replicas;
    const [local, remote] = reply as [number, number];
    return Number(local) >= 1 && Number(remote) >= replicas;
  }
}

/** The major and minor of `INFO server`'s redis_version, e.g. [7, 0]. */
function redisVersion(info: string): [number, number] | null {
  const match = /redis_version:(\d+)\.(\d+)/.exec(info);
  return match ? [Number(match[1]), Number(match[2])] : null;
}

/**
 * Checks at start that this Redis can give what `settings` asks. Throws
 * DurabilityUnsupportedError when it never can (WAITAOF on Redis < 7.2 or without AOF);
 * returns warnings for what may change at run time (fewer replicas connected than required).
 */
export async function checkDurabilitySupport(redis: Redis, settings: DurabilitySettings): Promise<string[]> {
  if (settings.mode === 'none') return [];
  if (settings.mode === 'waitaof') {
    const version = redisVersion(await redis.info('server'));
    const [major, minor] = WAITAOF_SINCE;
    if (!version || version[0] < major || (version[0] === major && version[1] < minor)) {
      throw new DurabilityUnsupportedError(
        `REDIS_DURABILITY=waitaof needs Redis ≥ ${major}.${minor} (WAITAOF); this Redis is ${version ? version.join('.') : 'of unknown version'}. ` +
          'Use appendfsync always with REDIS_DURABILITY=none, or REDIS_DURABILITY=wait with replicas.',
      );
    }
    if (!/aof_enabled:1/.test(await redis.info('persistence'))) {
      throw new DurabilityUnsupportedError(
        'REDIS_DURABILITY=waitaof needs the AOF on (appendonly yes): WAITAOF cannot wait for an fsync that never happens.',
      );
    }
  }
  const replication = await redis.info('replication');
  const connected = Number(/connected_slaves:(\d+)/.exec(replication)?.[1] ?? 0);
  if (connected < settings.replicas) {
    return [
      `REDIS_WAIT_REPLICAS=${settings.replicas} but ${connected} replica(s) are connected: until enough are, no claim is confirmed and no batch is submitted.`,
    ];
  }
  return [];
}
