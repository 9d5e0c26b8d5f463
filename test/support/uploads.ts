import { pino } from 'pino';
import { loadApiEnv } from '../../apps/api/src/env.js';
import { createUploadSweeper } from '../../apps/api/src/uploads/uploads-module.js';
import { uploadMediaKey } from '@batchscribe/shared';
import type { Stack } from './stack.js';

/** One sweep of the api's upload sweeper at `now`, as main.ts runs it every UPLOAD_SWEEP_MS. */
export function sweepUploads(stack: Stack, now = Date.now()): Promise<{ swept: boolean; deleted: number }> {
  const env = loadApiEnv({ ...stack.blobEnv, QUEUE_PREFIX: stack.prefix, AUTH_DISABLED: 'true', REDIS_URL: process.env.REDIS_URL });
  const sweep = createUploadSweeper({
    env,
    redis: stack.redis,
    keys: stack.keys,
    blobs: stack.blobs,
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
  return sweep(1);
}

/** The blob store keys an upload's media still has. */
export async function blobsUnder(stack: Stack, uploadId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const e of stack.blobs.list(uploadMediaKey(stack.prefix, uploadId))) keys.push(e.key);
  return keys;
}
