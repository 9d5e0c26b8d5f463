import type { Redis } from 'ioredis';
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import type { Logger } from 'pino';
import type { TranscriptStore } from '../blob/transcript-store.js';
import type { TranscriptPreparer } from '../transcript/transcript-preparer.js';

const inflate = promisify(brotliDecompress);
/** Fields moved per round trip: bounded memory and short commands, whatever the hash's size. */
const FIELDS_PER_ROUND = 100;

/**
 * Releases before the blob store kept transcripts in Redis, in a hash per job
 * (`{prefix}:job:<id>:tx`, file index → brotli of the upstream JSON). This moves them into the
 * blob store, field by field: each transcript is stored before its field is deleted, so a crash
 * in between only repeats one overwrite. Jobs of an upgraded deployment keep their results.
 * Idempotent, and cheap once nothing is left (one SCAN of the key space).
 */
export async function migrateLegacyTranscripts(deps: {
  redis: Redis;
  queuePrefix: string;
  transcripts: TranscriptStore;
  preparer: TranscriptPreparer;
  logger: Logger;
}): Promise<{ jobs: number; files: number }> {
  const { redis, transcripts, preparer, logger } = deps;
  const pattern = `{${deps.queuePrefix}}:job:*:tx`;
  let cursor = '0';
  let jobs = 0;
  let files = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const jobId = key.slice(`{${deps.queuePrefix}}:job:`.length, -':tx'.length);
      let hcursor = '0';
      do {
        const [hnext, flat] = await redis.hscanBuffer(key, hcursor, 'COUNT', FIELDS_PER_ROUND);
        hcursor = hnext.toString();
        for (let i = 0; i + 1 < flat.length; i += 2) {
          const index = Number(flat[i]!.toString());
          if (!Number.isInteger(index)) continue;
          await transcripts.put(jobId, index, await preparer.prepare(await inflate(flat[i + 1]!)));
          await redis.hdel(key, String(index));
          files++;
        }
      } while (hcursor !== '0');
      jobs++;
      logger.info({ jobId }, 'moved the transcripts of a job from Redis to the blob store');
    }
  } while (cursor !== '0');
  return { jobs, files };
}
