import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { WebhookStore, webhookJobOptions, webhookQueueJobId, type KeyLayout, type WebhookJobPayload } from '@batchscribe/shared';

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
  const store = new WebhookStore(deps.redis, deps.keys);
  const entries = await store.outbox(batch);
  for (const entry of entries) {
    const { jobId, finishedAt, callbackUrl, round } = entry;
    if (finishedAt != null && callbackUrl != null) {
      const payload: WebhookJobPayload = { jobId, finishedAt, round };
      await deps.queue.add('deliver', payload, { ...webhookJobOptions(deps.maxAttempts), jobId: webhookQueueJobId(payload) });
    }
    // No ending (deleted, expired, or running again after a retry): nothing to send for it now.
    // Taken off only if the job still has the ending and round read: one finished again stays for the next pass.
    await store.removeFromOutbox(entry);
  }
  return entries.length;
}
