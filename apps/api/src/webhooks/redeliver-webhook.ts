import type { Redis } from 'ioredis';
import { ConflictError, jobNotFound, type KeyLayout } from '@batchscribe/shared';

/**
 * Puts a finished job's webhook back in the outbox as a new round: the worker's outbox loop
 * queues it and the delivery of any older round stops. The webhook-id stays the same (it is
 * derived from the job's ending), so receivers can tell a redelivery from a new event.
 * Attempts keep counting across rounds. HSET keeps the job's retention TTL.
 * KEYS: job, outbox. ARGV: tenant, jobId, channel.
 * Returns 'missing' | 'running' | 'no-callback' | 'ok'.
 */
const REDELIVER = `
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 'missing' end
local s = redis.call('HGET', KEYS[1], 'status')
if not (s == 'completed' or s == 'completed_with_errors' or s == 'failed' or s == 'cancelled') then return 'running' end
if redis.call('HEXISTS', KEYS[1], 'callback_url') == 0 then return 'no-callback' end
local raw = redis.call('HGET', KEYS[1], 'webhook')
local attempts = 0
if raw then
  -- Decoded before the first write: an unreadable state stops the script with nothing changed.
  local ok, state = pcall(cjson.decode, raw)
  if not ok or type(state) ~= 'table' then return redis.error_reply('DAMAGED the webhook state is not readable JSON; nothing was changed') end
  attempts = tonumber(state.attempts) or 0
end
redis.call('HSET', KEYS[1], 'webhook', cjson.encode({ status = 'pending', attempts = attempts, last_error = cjson.null }))
redis.call('HINCRBY', KEYS[1], 'webhook_round', 1)
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 'ok'
`;

export async function redeliverWebhook(deps: { redis: Redis; keys: KeyLayout }, jobId: string, tenant: string): Promise<void> {
  const { redis, keys } = deps;
  const word = (await redis.eval(REDELIVER, 2, keys.job(jobId), keys.webhookOutbox, tenant, jobId, keys.jobEvents)) as string;
  if (word === 'missing') throw jobNotFound();
  if (word === 'running') throw new ConflictError('The job has not finished; its webhook is sent when it does.');
  if (word === 'no-callback') throw new ConflictError('The job has no callback_url; there is no webhook to send.');
}
