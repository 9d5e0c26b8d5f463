import type { Redis } from 'ioredis';
import { ConflictError, WebhookStore, jobNotFound, type KeyLayout } from '@batchscribe/shared';

/**
 * Puts a finished job's webhook back in the outbox as a new round: the worker's outbox loop
 * queues it and the delivery of any older round stops. The webhook-id stays the same (it is
 * derived from the job's ending), so receivers can tell a redelivery from a new event.
 */
export async function redeliverWebhook(deps: { redis: Redis; keys: KeyLayout }, jobId: string, tenant: string): Promise<void> {
  const word = await new WebhookStore(deps.redis, deps.keys).redeliver(jobId, tenant);
  if (word === 'missing') throw jobNotFound();
  if (word === 'running') throw new ConflictError('The job has not finished; its webhook is sent when it does.');
  if (word === 'no-callback') throw new ConflictError('The job has no callback_url; there is no webhook to send.');
}
