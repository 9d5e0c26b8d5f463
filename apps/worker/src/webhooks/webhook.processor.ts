import type { Job as BullJob } from 'bullmq';
import type { Logger } from 'pino';
import { webhookJobPayload, type WebhookJobPayload } from '@batchscribe/shared';
import { deliverWebhook, type DeliverWebhookDeps, type DeliveryOutcome } from './deliver-webhook.js';

/** The BullMQ processor of the webhooks queue: parse, bind a logger, make one attempt. */
export function createWebhookProcessor(deps: Omit<DeliverWebhookDeps, 'log'>, logger: Logger) {
  return async (bull: BullJob<WebhookJobPayload>): Promise<DeliveryOutcome> => {
    const payload = webhookJobPayload.parse(bull.data);
    // attemptsMade counts the attempts that already failed; this one is attemptsMade + 1.
    const attempt = bull.attemptsMade + 1;
    const log = logger.child({ jobId: payload.jobId, round: payload.round, attempt });
    return deliverWebhook({ ...deps, log }, payload, { isLast: attempt >= (bull.opts.attempts ?? 1) });
  };
}
