import { SAFE_LUA, SETTLE_JOB_LUA } from '@batchscribe/shared';

/**
 * Job-level actions of the api, each one atomic script over the job's keys (one hash tag, so
 * one cluster slot). They return a status word the route maps to HTTP.
 */

const TERMINAL = `
local function isTerminal(s) return s == 'completed' or s == 'completed_with_errors' or s == 'failed' or s == 'cancelled' end
`;

/**
 * cancel: queued batches (and their files) are cancelled at once; open tasks run to their end
 * and keep their transcripts; the job is `cancelling` until they do.
 * Every batch list and file record it changes is decoded and re-encoded before the first
 * write; one that cannot be read answers a DAMAGED error reply and nothing changes.
 * KEYS: job. ARGV: tenant, keyPrefix, nowIso, retentionS, channel, jobId.
 * Returns 'missing' | 'noop' | 'finished' | 'ok'.
 */
export const CANCEL_JOB = `${TERMINAL}${SAFE_LUA}${SETTLE_JOB_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return 'missing' end
local status = redis.call('HGET', job, 'status')
if status == 'cancelled' or status == 'cancelling' then return 'noop' end
if isTerminal(status) then return 'finished' end
local batches = tonumber(redis.call('HGET', job, 'b_total'))
if not batches then return damaged('the job record (b_total)') end
local filesKey = ARGV[2] .. ':files'
local cancelled = {}
local files = 0
for b = 0, batches - 1 do
  local bkey = ARGV[2] .. ':b:' .. b
  if redis.call('HGET', bkey, 'state') == 'queued' then
    local idxs, err = decodeJson(redis.call('HGET', bkey, 'files'), 'the file list of batch ' .. b)
    if not idxs then return damaged(err) end
    local records = {}
    for _, idx in ipairs(idxs) do
      local rec, rerr = decodeJson(redis.call('HGET', filesKey, idx), 'the record of file ' .. tostring(idx))
      if not rec then return damaged(rerr) end
      rec.s = 'cancelled'
      local raw, eerr = encodeJson(rec, 'the record of file ' .. tostring(idx))
      if not raw then return damaged(eerr) end
      records[#records + 1] = { idx, raw }
    end
    cancelled[#cancelled + 1] = { bkey, records }
    files = files + #records
  end
end
redis.call('HSET', job, 'status', 'cancelling', 'updated_at', ARGV[3])
for _, batch in ipairs(cancelled) do
  redis.call('HSET', batch[1], 'state', 'cancelled', 'ended_at', ARGV[3])
  for _, rec in ipairs(batch[2]) do redis.call('HSET', filesKey, rec[1], rec[2]) end
end
incrBy(job, 'f_queued', -files)
incrBy(job, 'f_cancelled', files)
incrBy(job, 'b_queued', -#cancelled)
incrBy(job, 'b_cancelled', #cancelled)
settleJob(job, ARGV[3], ARGV[4], ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 'ok'
`;

/**
 * retry: every failed file goes out again in new batches numbered after the existing ones.
 * Reads and re-encodes every record it changes before the first write (DAMAGED error reply,
 * nothing changed, when one cannot be read).
 * KEYS: job, intakePending. ARGV: tenant, keyPrefix, nowIso, batchSize, nowMs, jobId.
 * Returns { word, firstNewBatch, newBatches }: word 'missing' | 'running' | 'nothing' | 'ok'.
 */
export const RETRY_JOB = `${TERMINAL}${SAFE_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return {'missing', 0, 0} end
if not isTerminal(redis.call('HGET', job, 'status')) then return {'running', 0, 0} end
if tonumber(redis.call('HGET', job, 'f_failed')) == 0 then return {'nothing', 0, 0} end
local filesKey = ARGV[2] .. ':files'
local total = tonumber(redis.call('HGET', job, 'f_total'))
local first = tonumber(redis.call('HGET', job, 'b_total'))
local size = tonumber(ARGV[4])
if not total or not first then return damaged('the job record (f_total, b_total)') end
if not size or size < 1 then return badArgs('batch size ' .. tostring(ARGV[4])) end
local failed = {}
for i = 0, total - 1 do
  local raw = redis.call('HGET', filesKey, i)
  if raw then
    local rec, err = decodeJson(raw, 'the record of file ' .. i)
    if not rec then return damaged(err) end
    if rec.s == 'failed' then failed[#failed + 1] = { i, rec } end
  end
end
if #failed == 0 then return {'nothing', 0, 0} end
local batches = {}
for start = 1, #failed, size do
  local b = first + #batches
  local idxs, records = {}, {}
  for k = start, math.min(start + size - 1, #failed) do
    local idx, rec = failed[k][1], failed[k][2]
    idxs[#idxs + 1] = idx
    rec.s = 'queued'; rec.b = b; rec.e = nil; rec.t = nil
    local raw, err = encodeJson(rec, 'the record of file ' .. idx)
    if not raw then return damaged(err) end
    records[#records + 1] = { idx, raw }
  end
  batches[#batches + 1] = { b, cjson.encode(idxs), records }
end
local nb = #batches
for _, batch in ipairs(batches) do
  for _, rec in ipairs(batch[3]) do redis.call('HSET', filesKey, rec[1], rec[2]) end
  redis.call('HSET', ARGV[2] .. ':b:' .. batch[1], 'state', 'queued', 'files', batch[2])
end
incrBy(job, 'f_failed', -#failed)
incrBy(job, 'f_queued', #failed)
incrBy(job, 'b_total', nb)
incrBy(job, 'b_queued', nb)
redis.call('HSET', job, 'status', 'running', 'updated_at', ARGV[3])
redis.call('HDEL', job, 'finished_at', 'error')
-- Active again: nothing of it may expire while it runs.
redis.call('PERSIST', job)
redis.call('PERSIST', filesKey)
for b = 0, first + nb - 1 do redis.call('PERSIST', ARGV[2] .. ':b:' .. b) end
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return {'ok', first, nb}
`;

/**
 * delete: every key of a finished job, and its place in the tenant's index.
 * KEYS: job, tenantIndex. ARGV: tenant, keyPrefix, jobId. Returns 'missing' | 'running' | 'ok'.
 */
export const DELETE_JOB = `${TERMINAL}${SAFE_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return 'missing' end
if not isTerminal(redis.call('HGET', job, 'status')) then return 'running' end
local batches = tonumber(redis.call('HGET', job, 'b_total'))
if not batches then return damaged('the job record (b_total)') end
for b = 0, batches - 1 do redis.call('DEL', ARGV[2] .. ':b:' .. b) end
redis.call('DEL', ARGV[2] .. ':files', job)
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
