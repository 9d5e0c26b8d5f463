import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Without AOF or RDB a Redis restart forgets every job: say so loudly at start. */
export async function warnIfRedisForgets(redis: Redis, logger: Logger): Promise<void> {
  const info = await redis.info('persistence');
  const aof = /aof_enabled:(\d)/.exec(info)?.[1] === '1';
  const rdbSaves = /rdb_last_save_time/.test(info);
  let saveRules = '';
  try {
    const conf = (await redis.config('GET', 'save')) as string[];
    saveRules = conf[1] ?? '';
  } catch {
    return; // CONFIG is disabled on some managed services; they persist by their own rules.
  }
  if (!aof && saveRules.trim() === '' && rdbSaves) {
    logger.warn(
      { aof, saveRules },
      'REDIS PERSISTENCE IS OFF: a Redis restart loses every queued batch and job. Enable appendonly yes (appendfsync everysec).',
    );
  }
}
