import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Job, JobReader, KeyLayout, WebhookJobPayload, WebhookState } from '@batchscribe/shared';
import type { WebhookSender } from './webhook-sender.js';

/**
 * Records one attempt on the job's `webhook` field, if the delivery is still current: the job
 * still has the same ending (`finished_at`) and no redelivery has superseded it (`round`). An
 * expired or deleted job is left alone (HSET would recreate its hash without a TTL).
 * KEYS: job. ARGV: finishedAt, round, status, lastError ('' = null), channel, jobId.
 * Returns the attempts recorded so far, or -1 when the delivery is stale.
 */
const RECORD_ATTEMPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'finished_at') ~= ARGV[1] then return -1 end
if (redis.call('HGET', KEYS[1], 'webhook_round') or '0') ~= ARGV[2] then return -1 end
local raw = redis.call('HGET', KEYS[1], 'webhook')
local attempts = 0
if raw then
  -- Decoded before the first write: an unreadable state stops the script with nothing changed.
  local ok, state = pcall(cjson.decode, raw)
  if not ok or type(state) ~= 'table' then return redis.error_reply('DAMAGED the webhook state is not readable JSON; nothing was changed') end
  attempts = tonumber(state.attempts) or 0
end
attempts = attempts + 1
local lastError = cjson.null
if ARGV[4] ~= '' then lastError = ARGV[4] end
redis.call('HSET', KEYS[1], 'webhook', cjson.encode({ status = ARGV[3], attempts = attempts, last_error = lastError }))
redis.call('PUBLISH', ARGV[5], ARGV[6])
return attempts
`;

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
  const attempts = (await deps.redis.eval(
    RECORD_ATTEMPT,
    1,
    deps.keys.job(p.jobId),
    p.finishedAt,
    String(p.round),
    state,
    lastError,
    deps.keys.jobEvents,
    p.jobId,
  )) as number;
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
  const [tenant, round] = await deps.redis.hmget(deps.keys.job(p.jobId), 'tenant', 'webhook_round');
  if (tenant == null || Number(round ?? 0) !== p.round) return null;
  const job = await deps.reader.getJob(p.jobId, tenant);
  return job && job.finished_at === p.finishedAt ? job : null;
}
