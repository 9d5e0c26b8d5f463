import type { Redis } from 'ioredis';
import type { KeyLayout } from './keys.js';
import { withScripts } from './commands.js';
import { TERMINAL_LUA } from './batch-scripts.js';
import type { WebhookState } from '../domain/job.js';

/**
 * A job's webhook: its state on the job hash (`webhook`, `webhook_round`), and the
 * transactional outbox of jobs whose webhook is due (written by the step that ends a job, or by
 * a redelivery) that a worker loop moves to the webhooks queue.
 */

/**
 * The attempts a job's webhook state records (0 when it has none), or nil when the state is not
 * readable JSON: decoded before any write, so a script can stop with nothing changed.
 */
const WEBHOOK_ATTEMPTS_LUA = `
local function webhookAttempts(jobKey)
  local raw = redis.call('HGET', jobKey, 'webhook')
  if not raw then return 0 end
  local ok, state = pcall(cjson.decode, raw)
  if not ok or type(state) ~= 'table' then return nil end
  return tonumber(state.attempts) or 0
end
`;

/**
 * Records one attempt on the job's `webhook` field, if the delivery is still current: the job
 * still has the same ending (`finished_at`) and no redelivery has superseded it (`round`). An
 * expired or deleted job is left alone (HSET would recreate its hash without a TTL).
 * KEYS: job. ARGV: finishedAt, round, status, lastError ('' = null), channel, jobId.
 * Returns the attempts recorded so far, or -1 when the delivery is stale.
 */
const RECORD_ATTEMPT = `${WEBHOOK_ATTEMPTS_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'finished_at') ~= ARGV[1] then return -1 end
if (redis.call('HGET', KEYS[1], 'webhook_round') or '0') ~= ARGV[2] then return -1 end
local attempts = webhookAttempts(KEYS[1])
if not attempts then return redis.error_reply('DAMAGED the webhook state is not readable JSON; nothing was changed') end
attempts = attempts + 1
local lastError = cjson.null
if ARGV[4] ~= '' then lastError = ARGV[4] end
redis.call('HSET', KEYS[1], 'webhook', cjson.encode({ status = ARGV[3], attempts = attempts, last_error = lastError }))
redis.call('PUBLISH', ARGV[5], ARGV[6])
return attempts
`;

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

/**
 * Puts a finished job's webhook back in the outbox as a new round: the outbox loop queues it
 * and the delivery of any older round stops. Attempts keep counting across rounds. HSET keeps
 * the job's retention TTL. KEYS: job, outbox. ARGV: tenant, jobId, channel.
 * Returns 'missing' | 'running' | 'no-callback' | 'ok'.
 */
const REDELIVER = `${TERMINAL_LUA}${WEBHOOK_ATTEMPTS_LUA}
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 'missing' end
if not isTerminal(redis.call('HGET', KEYS[1], 'status')) then return 'running' end
if redis.call('HEXISTS', KEYS[1], 'callback_url') == 0 then return 'no-callback' end
local attempts = webhookAttempts(KEYS[1])
if not attempts then return redis.error_reply('DAMAGED the webhook state is not readable JSON; nothing was changed') end
redis.call('HSET', KEYS[1], 'webhook', cjson.encode({ status = 'pending', attempts = attempts, last_error = cjson.null }))
redis.call('HINCRBY', KEYS[1], 'webhook_round', 1)
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 'ok'
`;

interface WebhookScripts {
  bsWebhookRecordAttempt(job: string, ...args: string[]): Promise<number>;
  bsWebhookOutboxRemove(outbox: string, job: string, jobId: string, finishedAt: string, round: string): Promise<number>;
  bsWebhookRedeliver(job: string, outbox: string, tenant: string, jobId: string, channel: string): Promise<string>;
}

/** What the outbox holds for one job: its current ending and round, or nulls when it has none now. */
export interface OutboxEntry {
  jobId: string;
  finishedAt: string | null;
  callbackUrl: string | null;
  round: number;
}

export type RedeliverOutcome = 'missing' | 'running' | 'no-callback' | 'ok';

export class WebhookStore {
  private readonly redis: Redis & WebhookScripts;

  constructor(
    redis: Redis,
    private readonly keys: KeyLayout,
  ) {
    this.redis = withScripts<WebhookScripts>(redis, {
      bsWebhookRecordAttempt: { keys: 1, lua: RECORD_ATTEMPT },
      bsWebhookOutboxRemove: { keys: 2, lua: REMOVE_IF_UNCHANGED },
      bsWebhookRedeliver: { keys: 2, lua: REDELIVER },
    });
  }

  /** Records one delivery attempt's outcome; -1 when the delivery is stale (another ending or round, or the job is gone). */
  recordAttempt(
    delivery: { jobId: string; finishedAt: string; round: number },
    status: WebhookState['status'],
    lastError: string | null,
  ): Promise<number> {
    return this.redis.bsWebhookRecordAttempt(
      this.keys.job(delivery.jobId),
      delivery.finishedAt,
      String(delivery.round),
      status,
      lastError ?? '',
      this.keys.jobEvents,
      delivery.jobId,
    );
  }

  /** The job's tenant and current webhook round, or null when the job is gone. */
  async deliveryTarget(jobId: string): Promise<{ tenant: string; round: number } | null> {
    const [tenant, round] = await this.redis.hmget(this.keys.job(jobId), 'tenant', 'webhook_round');
    return tenant == null ? null : { tenant, round: Number(round ?? 0) };
  }

  /** The first `limit` jobs in the outbox, with their current ending. */
  async outbox(limit: number): Promise<OutboxEntry[]> {
    const ids = await this.redis.zrange(this.keys.webhookOutbox, 0, limit - 1);
    return Promise.all(
      ids.map(async (jobId) => {
        const [finishedAt, callbackUrl, round] = await this.redis.hmget(
          this.keys.job(jobId),
          'finished_at',
          'callback_url',
          'webhook_round',
        );
        return { jobId, finishedAt: finishedAt ?? null, callbackUrl: callbackUrl ?? null, round: Number(round ?? 0) };
      }),
    );
  }

  /** Takes the entry off the outbox if the job still has the ending and round read. */
  async removeFromOutbox(entry: OutboxEntry): Promise<void> {
    await this.redis.bsWebhookOutboxRemove(
      this.keys.webhookOutbox,
      this.keys.job(entry.jobId),
      entry.jobId,
      entry.finishedAt ?? '',
      String(entry.round),
    );
  }

  /** A finished job's webhook goes out again, as a new round. */
  redeliver(jobId: string, tenant: string): Promise<RedeliverOutcome> {
    return this.redis.bsWebhookRedeliver(
      this.keys.job(jobId),
      this.keys.webhookOutbox,
      tenant,
      jobId,
      this.keys.jobEvents,
    ) as Promise<RedeliverOutcome>;
  }
}
