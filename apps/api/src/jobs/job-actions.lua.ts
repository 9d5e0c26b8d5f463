import { SETTLE_JOB_LUA } from '@batchscribe/shared';

/**
 * Job-level actions of the api, each one atomic script over the job's keys (one hash tag, so
 * one cluster slot). They return a status word the route maps to HTTP.
 */

const TERMINAL = `
local function isTerminal(s) return s == 'completed' or s == 'completed_with_errors' or s == 'failed' or s == 'cancelled' end
`;

/**
 * cancel: queued batches (and their files) are cancelled at once; open tasks run to their end
 * and keep their transcripts (decision 7); the job is `cancelling` until they do.
 * KEYS: job. ARGV: tenant, keyPrefix, nowIso, retentionS, channel, jobId.
 * Returns 'missing' | 'noop' | 'finished' | 'ok'.
 */
export const CANCEL_JOB = `${TERMINAL}${SETTLE_JOB_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return 'missing' end
local status = redis.call('HGET', job, 'status')
if status == 'cancelled' or status == 'cancelling' then return 'noop' end
if isTerminal(status) then return 'finished' end
redis.call('HSET', job, 'status', 'cancelling', 'updated_at', ARGV[3])
local batches = tonumber(redis.call('HGET', job, 'b_total'))
local filesKey = ARGV[2] .. ':files'
local files, nb = 0, 0
for b = 0, batches - 1 do
  local bkey = ARGV[2] .. ':b:' .. b
  if redis.call('HGET', bkey, 'state') == 'queued' then
    redis.call('HSET', bkey, 'state', 'cancelled', 'ended_at', ARGV[3])
    for _, idx in ipairs(cjson.decode(redis.call('HGET', bkey, 'files'))) do
      local rec = cjson.decode(redis.call('HGET', filesKey, idx))
      rec.s = 'cancelled'
      redis.call('HSET', filesKey, idx, cjson.encode(rec))
      files = files + 1
    end
    nb = nb + 1
  end
end
redis.call('HINCRBY', job, 'f_queued', -files)
redis.call('HINCRBY', job, 'f_cancelled', files)
redis.call('HINCRBY', job, 'b_queued', -nb)
redis.call('HINCRBY', job, 'b_cancelled', nb)
settleJob(job, ARGV[3], ARGV[4], ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'ok'
`;

/**
 * retry: every failed file goes out again in new batches numbered after the existing ones.
 * KEYS: job, intakePending. ARGV: tenant, keyPrefix, nowIso, batchSize, nowMs, jobId.
 * Returns { word, firstNewBatch, newBatches }: word 'missing' | 'running' | 'nothing' | 'ok'.
 */
export const RETRY_JOB = `${TERMINAL}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return {'missing', 0, 0} end
if not isTerminal(redis.call('HGET', job, 'status')) then return {'running', 0, 0} end
if tonumber(redis.call('HGET', job, 'f_failed')) == 0 then return {'nothing', 0, 0} end
local filesKey = ARGV[2] .. ':files'
local total = tonumber(redis.call('HGET', job, 'f_total'))
local failed = {}
for i = 0, total - 1 do
  local raw = redis.call('HGET', filesKey, i)
  if raw and cjson.decode(raw).s == 'failed' then failed[#failed + 1] = i end
end
local size = tonumber(ARGV[4])
local first = tonumber(redis.call('HGET', job, 'b_total'))
local nb = 0
for start = 1, #failed, size do
  local b = first + nb
  local idxs = {}
  for k = start, math.min(start + size - 1, #failed) do
    local idx = failed[k]
    idxs[#idxs + 1] = idx
    local rec = cjson.decode(redis.call('HGET', filesKey, idx))
    rec.s = 'queued'; rec.b = b; rec.e = nil; rec.t = nil
    redis.call('HSET', filesKey, idx, cjson.encode(rec))
  end
  redis.call('HSET', ARGV[2] .. ':b:' .. b, 'state', 'queued', 'files', cjson.encode(idxs))
  nb = nb + 1
end
redis.call('HINCRBY', job, 'f_failed', -#failed)
redis.call('HINCRBY', job, 'f_queued', #failed)
redis.call('HINCRBY', job, 'b_total', nb)
redis.call('HINCRBY', job, 'b_queued', nb)
redis.call('HSET', job, 'status', 'running', 'updated_at', ARGV[3])
redis.call('HDEL', job, 'finished_at', 'error')
-- Active again: nothing of it may expire while it runs.
redis.call('PERSIST', job)
redis.call('PERSIST', filesKey)
redis.call('PERSIST', ARGV[2] .. ':tx')
for b = 0, first + nb - 1 do redis.call('PERSIST', ARGV[2] .. ':b:' .. b) end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return {'ok', first, nb}
`;

/**
 * delete: every key of a finished job, and its place in the tenant's index.
 * KEYS: job, tenantIndex. ARGV: tenant, keyPrefix, jobId. Returns 'missing' | 'running' | 'ok'.
 */
export const DELETE_JOB = `${TERMINAL}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return 'missing' end
if not isTerminal(redis.call('HGET', job, 'status')) then return 'running' end
local batches = tonumber(redis.call('HGET', job, 'b_total'))
for b = 0, batches - 1 do redis.call('DEL', ARGV[2] .. ':b:' .. b) end
redis.call('DEL', ARGV[2] .. ':files', ARGV[2] .. ':tx', job)
redis.call('ZREM', KEYS[2], ARGV[3])
return 'ok'
`;

/**
 * idempotency claim. KEYS: idem key. ARGV: bodyHash, nowMs, ttlS, staleMs.
 * Value is "<hash>|pending|<ms>" while a request creates the job, then "<hash>|<jobId>".
 * Returns {'claimed'} | {'conflict'} | {'pending'} | {'done', jobId}.
 */
export const CLAIM_IDEMPOTENCY = `
local v = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '|pending|' .. ARGV[2]
if not v then
  redis.call('SET', KEYS[1], mine, 'EX', ARGV[3])
  return {'claimed'}
end
local hash, state, t = string.match(v, '^([^|]*)|([^|]*)|?(.*)$')
if hash ~= ARGV[1] then return {'conflict'} end
if state == 'pending' then
  if tonumber(ARGV[2]) - tonumber(t) > tonumber(ARGV[4]) then
    redis.call('SET', KEYS[1], mine, 'KEEPTTL')
    return {'claimed'}
  end
  return {'pending'}
end
return {'done', state}
`;
