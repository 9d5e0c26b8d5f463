import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { webhookJobOptions, webhookQueueJobId, type KeyLayout, type WebhookJobPayload } from '@batchscribe/shared';

/**
 * Takes a job off the outbox only if it still has the ending and round that were queued: a
 * job retried and finished again (or redelivered) in the meantime stays for the next pass.
 * KEYS: outbox, job. ARGV: jobId, finishedAt ('' = none), round.
 */
const REMOVE_IF_UNCHANGED = `
local f = redis.call('HGET', KEYS[2], 'finished_at') or ''
local r = redis.call('HGET', KEYS[2], 'webhook_round') or '0'
if f == ARGV[2] and r == ARGV[3] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

export interface WebhookOutboxDeps {
  redis: Redis;
  keys: KeyLayout;
  queue: Queue<WebhookJobPayload>;
  maxAttempts: number;
}

/**
 * Moves due webhooks from the transactional outbox (written by the script that ends a job, or
 * by a redelivery) to the webhooks queue. Add-then-remove, with deterministic BullMQ ids: a
 * worker dying in between makes the next pass add the same id again, which is a no-op.
 */
export async function drainWebhookOutbox(deps: WebhookOutboxDeps, batch = 100): Promise<number> {
  const ids = await deps.redis.zrange(deps.keys.webhookOutbox, 0, batch - 1);
  for (const jobId of ids) {
    const [finishedAt, callbackUrl, round] = await deps.redis.hmget(deps.keys.job(jobId), 'finished_at', 'callback_url', 'webhook_round');
    if (finishedAt != null && callbackUrl != null) {
      const payload: WebhookJobPayload = { jobId, finishedAt, round: Number(round ?? 0) };
      await deps.queue.add('deliver', payload, { ...webhookJobOptions(deps.maxAttempts), jobId: webhookQueueJobId(payload) });
    }
    // No ending (deleted, expired, or running again after a retry): nothing to send for it now.
    await deps.redis.eval(REMOVE_IF_UNCHANGED, 2, deps.keys.webhookOutbox, deps.keys.job(jobId), jobId, finishedAt ?? '', round ?? '0');
  }
  return ids.length;
}
