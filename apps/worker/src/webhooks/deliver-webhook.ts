import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { WebhookStore, type Job, type JobReader, type KeyLayout, type WebhookJobPayload, type WebhookState } from '@batchscribe/shared';
import type { WebhookSender } from './webhook-sender.js';

/** Thrown to make BullMQ retry the delivery with the webhook back-off. */
export class WebhookRetryError extends Error {
  override readonly name = 'WebhookRetryError';
}

export interface DeliverWebhookDeps {
  redis: Redis;
  keys: KeyLayout;
  reader: JobReader;
  sender: WebhookSender;
  log: Logger;
}

/** Stable across retries and redeliveries of one ending, so receivers can deduplicate. */
export function webhookMessageId(p: WebhookJobPayload): string {
  return `msg_${p.jobId}_${Date.parse(p.finishedAt)}`;
}

/** The event body (README, "Other services: HTTP + signed webhooks"). */
export function webhookEvent(job: Job): string {
  return JSON.stringify({ type: `job.${job.status}`, timestamp: job.finished_at, data: job });
}

export type DeliveryOutcome = 'delivered' | 'stopped' | 'exhausted' | 'stale';

/**
 * One attempt: read the job as it is now, POST it signed, record the outcome on the job.
 * 2xx delivers; 410 stops for good; anything else is retried (until the last attempt).
 */
export async function deliverWebhook(
  deps: DeliverWebhookDeps,
  p: WebhookJobPayload,
  attempt: { isLast: boolean },
): Promise<DeliveryOutcome> {
  const job = await readCurrentJob(deps, p);
  if (!job?.callback_url) return 'stale';

  const result = await deps.sender.send(job.callback_url, webhookMessageId(p), webhookEvent(job));
  const state: WebhookState['status'] =
    result.kind === 'delivered' ? 'delivered' : result.kind === 'gone' || attempt.isLast ? 'failed' : 'pending';
  const lastError =
    result.kind === 'delivered' ? '' : result.kind === 'gone' ? 'the receiver answered HTTP 410 Gone: not retrying' : result.error;
  const attempts = await new WebhookStore(deps.redis, deps.keys).recordAttempt(p, state, lastError === '' ? null : lastError);
  const log = deps.log.child({
    status: result.status,
    attempts,
    ...(result.kind === 'failed' && result.detail ? { detail: result.detail } : {}),
  });

  if (result.kind === 'delivered') {
    log.info('webhook delivered');
    return 'delivered';
  }
  if (attempts < 0) return 'stale';
  if (result.kind === 'gone') {
    log.warn('webhook receiver answered 410; delivery stopped');
    return 'stopped';
  }
  if (attempt.isLast) {
    log.warn({ err: lastError }, 'webhook delivery failed; no attempts left');
    return 'exhausted';
  }
  // The retry's reason is kept by BullMQ and logged: operators' eyes only, so the low-level detail goes with it.
  throw new WebhookRetryError(result.kind === 'failed' && result.detail ? `${lastError} (${result.detail})` : lastError);
}

/** The job, if this delivery still describes its current ending and round. */
async function readCurrentJob(deps: DeliverWebhookDeps, p: WebhookJobPayload): Promise<Job | null> {
  const target = await new WebhookStore(deps.redis, deps.keys).deliveryTarget(p.jobId);
  if (target === null || target.round !== p.round) return null;
  const job = await deps.reader.getJob(p.jobId, target.tenant);
  return job && job.finished_at === p.finishedAt ? job : null;
}
