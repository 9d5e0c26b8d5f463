import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { JobReader, QUEUES, WEBHOOK_BACKOFF, type KeyLayout, type WebhookJobPayload } from '@batchscribe/shared';
import { webhookBackoff } from './webhook-backoff.js';
import { drainWebhookOutbox } from './webhook-outbox.js';
import { WebhookSender } from './webhook-sender.js';
import { createWebhookProcessor } from './webhook.processor.js';
import type { DeliveryOutcome } from './deliver-webhook.js';

export interface WebhookDeliveryOptions {
  secret: string | undefined;
  maxAttempts: number;
  backoffBaseMs: number;
  timeoutMs: number;
  concurrency: number;
  /** How often the outbox is drained; default 1 s. */
  outboxMs?: number;
  /** The outbound Agent (createOutboundAgent): refuses addresses the policy does not allow, at connect. */
  dispatcher: Dispatcher;
}

/**
 * The worker's webhook side: the outbox loop feeding the webhooks queue, and that queue's
 * BullMQ worker. Returns the function that stops both (the loop first, so nothing is added
 * to a closing queue).
 */
export function startWebhookDelivery(
  deps: { redis: Redis; keys: KeyLayout; logger: Logger; onOutcome?: (outcome: DeliveryOutcome | 'retry') => void },
  opts: WebhookDeliveryOptions,
): { close(): Promise<void> } {
  const { redis, keys, logger } = deps;
  if (!opts.secret) logger.warn('WEBHOOK_SECRET is not set: webhooks will be retried but not sent until it is');
  const queue = new Queue<WebhookJobPayload>(QUEUES.webhooks, { connection: redis, prefix: keys.bullPrefix });
  queue.on('error', (err) => logger.error({ queue: QUEUES.webhooks, err }, 'queue error'));

  const sender = new WebhookSender({ secret: opts.secret, timeoutMs: opts.timeoutMs, dispatcher: opts.dispatcher });
  const processor = createWebhookProcessor({ redis, keys, reader: new JobReader(redis, keys), sender }, logger);
  const backoff = webhookBackoff(opts.backoffBaseMs);
  const worker = new Worker<WebhookJobPayload>(QUEUES.webhooks, processor, {
    connection: redis,
    prefix: keys.bullPrefix,
    concurrency: opts.concurrency,
    settings: { backoffStrategy: (attemptsMade, type) => (type === WEBHOOK_BACKOFF ? backoff(attemptsMade) : 1_000) },
  });
  worker.on('error', (err) => logger.error({ queue: QUEUES.webhooks, err }, 'worker error'));
  worker.on('completed', (_job, outcome: DeliveryOutcome) => deps.onOutcome?.(outcome));
  worker.on('failed', (job) => deps.onOutcome?.(job && job.attemptsMade < (job.opts.attempts ?? 1) ? 'retry' : 'exhausted'));
  worker.on('failed', (job, err) =>
    // An attempt that will be retried is routine (the receiver is down); only the end of the road is a warning.
    logger[job && job.attemptsMade < (job.opts.attempts ?? 1) ? 'info' : 'warn'](
      { queue: QUEUES.webhooks, bullJobId: job?.id, jobId: job?.data.jobId, attempt: job?.attemptsMade, err: err.message },
      'webhook attempt failed',
    ),
  );

  // One drain at a time; close() waits for the one in flight before closing the queue.
  let draining: Promise<void> | null = null;
  const drain = () => {
    draining ??= drainWebhookOutbox({ redis, keys, queue, maxAttempts: opts.maxAttempts })
      .then(() => undefined)
      .catch((err: Error) => logger.warn({ err: err.message }, 'webhook outbox drain failed'))
      .finally(() => (draining = null));
  };
  const timer = setInterval(drain, opts.outboxMs ?? 1_000);

  return {
    close: async () => {
      clearInterval(timer);
      await draining;
      await worker.close();
      await queue.close();
    },
  };
}
