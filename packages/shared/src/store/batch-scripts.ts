import { TERMINAL_JOB_STATUSES } from '../domain/job.js';
import { RECORD_USAGE_LUA } from './usage-scripts.js';

/**
 * Lua scripts that move a batch's intent record and the job's aggregate counts in one atomic
 * step, so the counts invariant (counts other than total sum to total; docs/architecture.md) holds at every
 * instant, and a step replayed by a second processor finds the state already moved and does
 * nothing. All keys share the job's hash tag, so they live in one cluster slot.
 */

/**
 * Shared helpers. Every script reads, decodes and checks all it needs before its first write:
 * Redis does not roll a script back, so one that dies half-way (a record cjson cannot decode,
 * a bad argument) would keep its earlier writes and leave the counts wrong for good. A decode
 * runs under pcall and a failure answers an error reply with nothing changed.
 */
export const SAFE_LUA = `
local function decodeJson(raw, what)
  if type(raw) ~= 'string' then return nil, what .. ' is missing' end
  local ok, value = pcall(cjson.decode, raw)
  if not ok or type(value) ~= 'table' then return nil, what .. ' is not readable JSON' end
  return value
end
local function encodeJson(value, what)
  local ok, raw = pcall(cjson.encode, value)
  if not ok then return nil, what .. ' cannot be encoded' end
  return raw
end
local function damaged(what) return redis.error_reply('DAMAGED ' .. what .. '; nothing was changed') end
local function badArgs(what) return redis.error_reply('BADARGS ' .. what .. '; nothing was changed') end
-- HINCRBY by a Lua -0 sends "-0", which Redis refuses; by 0 changes nothing anyway.
local function incrBy(key, field, by)
  if by ~= 0 then redis.call('HINCRBY', key, field, by) end
end
`;

/** A Lua list literal of strings, for status sets written once in TypeScript. */
export function luaList(values: readonly string[]): string {
  return `{ ${values.map((v) => `'${v.replace(/[^a-z_]/g, '')}'`).join(', ')} }`;
}

/** `isTerminal(status)`, from TERMINAL_JOB_STATUSES. */
export const TERMINAL_LUA = `
local TERMINAL = {}
for _, s in ipairs(${luaList(TERMINAL_JOB_STATUSES)}) do TERMINAL[s] = true end
local function isTerminal(s) return s ~= nil and TERMINAL[s] == true end
`;

/**
 * Shared tail: once no batch is queued or open, and no chunked action is under way, decide the
 * job's terminal status and expire it. Every key it touches is declared: the job, its files, the
 * webhook outbox, and the job's batch keys from KEYS[firstBatch] on (all b_total of them, checked
 * by checkBatchKeys before the caller's first write). A counter that is not a number reads as 0.
 */
export const SETTLE_JOB_LUA = `${TERMINAL_LUA}
local function checkBatchKeys(jobKey, firstBatch)
  local batches = tonumber(redis.call('HGET', jobKey, 'b_total'))
  if not batches then return nil, 'the job record (b_total)' end
  if #KEYS - firstBatch + 1 ~= batches then return nil, 'STALE' end
  return batches
end
local function settleJob(jobKey, filesKey, outboxKey, firstBatch, now, retention)
  local num = function(field) return tonumber(redis.call('HGET', jobKey, field) or '0') or 0 end
  if num('b_queued') > 0 or num('b_submitted') > 0 then return end
  if redis.call('HEXISTS', jobKey, 'pending_action') == 1 then return end
  local status = redis.call('HGET', jobKey, 'status')
  if isTerminal(status) then return end
  local total = num('f_total')
  local done = num('f_completed')
  local final
  if status == 'cancelling' then final = 'cancelled'
  elseif redis.call('HEXISTS', jobKey, 'error') == 1 then final = 'failed'
  elseif done == total then final = 'completed'
  elseif done == 0 then final = 'failed'
  else final = 'completed_with_errors' end
  local hasCallback = redis.call('HEXISTS', jobKey, 'callback_url') == 1
  local jobId = redis.call('HGET', jobKey, 'id')
  redis.call('HSET', jobKey, 'status', final, 'finished_at', now, 'updated_at', now)
  -- Transactional outbox: the webhook is due in the same step that ends the job, so it can
  -- be neither lost nor sent for a job that did not end. A worker loop moves it to the queue.
  if hasCallback and jobId then
    redis.call('HSET', jobKey, 'webhook', '{"status":"pending","attempts":0,"last_error":null}')
    redis.call('ZADD', outboxKey, 0, jobId)
  end
  redis.call('EXPIRE', jobKey, retention)
  redis.call('EXPIRE', filesKey, retention)
  for k = firstBatch, #KEYS do redis.call('EXPIRE', KEYS[k], retention) end
end
`;

/**
 * claimSubmit: queued → submitting, if a foxapi task slot is free and the job is not being
 * cancelled (a chunked cancel may not have reached this batch yet: it must not be sent).
 * KEYS: batch, inflight, job. ARGV: token, leaseMs, maxInflight.
 * The lease ends `leaseMs` after Redis's own clock, so every worker compares it with the same
 * clock (their own may disagree by seconds). Returns 'claimed', 'full', 'cancelling', or the
 * state the batch is already in.
 */
export const CLAIM_SUBMIT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 'missing' end
if state ~= 'queued' then return state end
local jobStatus = redis.call('HGET', KEYS[3], 'status')
if jobStatus == 'cancelling' or jobStatus == 'cancelled' then return 'cancelling' end
if redis.call('SISMEMBER', KEYS[2], KEYS[1]) == 0 and redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'full' end
local t = redis.call('TIME')
local leaseUntil = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'state', 'submitting', 'claim', ARGV[1], 'lease_until', leaseUntil)
redis.call('SADD', KEYS[2], KEYS[1])
return 'claimed'
`;

/**
 * hasFreeSlot: whether claimSubmit would find a task slot now (the same test), booking nothing.
 * KEYS: batch, inflight. ARGV: maxInflight. Returns 1 or 0.
 */
export const HAS_FREE_SLOT = `
if redis.call('SISMEMBER', KEYS[2], KEYS[1]) == 1 or redis.call('SCARD', KEYS[2]) < tonumber(ARGV[1]) then return 1 end
return 0
`;

/**
 * releaseClaim: submitting → queued, when the submit certainly created no task (429, refused).
 * KEYS: batch, inflight. ARGV: token. Returns 1 if released.
 */
export const RELEASE_CLAIM = `
if redis.call('HGET', KEYS[1], 'state') ~= 'submitting' or redis.call('HGET', KEYS[1], 'claim') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued')
redis.call('HDEL', KEYS[1], 'claim', 'lease_until')
redis.call('SREM', KEYS[2], KEYS[1])
return 1
`;

/**
 * recordSubmitted: submitting → submitted with the task id, before the first poll.
 * KEYS: job, batch, files, inflight. ARGV: token, nowIso, batchFieldsJson, then index/json pairs.
 * Returns 1; 2 when the claim had vanished but the batch is still `queued` with no claim (Redis
 * lost the claim's write: a crash under `appendfsync everysec`, a failover to a replica behind,
 * or a claim released after its lease): the task exists and is paid for, so it is recorded
 * rather than left for another worker to submit again; or 0 when another attempt owns the
 * batch now or it has moved on (this task is then orphaned).
 */
export const RECORD_SUBMITTED = `${SAFE_LUA}
local state = redis.call('HGET', KEYS[2], 'state')
local claim = redis.call('HGET', KEYS[2], 'claim')
local result
if state == 'submitting' and claim == ARGV[1] then
  result = 1
elseif state == 'queued' and not claim and redis.call('HEXISTS', KEYS[2], 'task_id') == 0 then
  -- The claim was lost (Redis forgot its last writes) but this attempt holds a task: record it.
  result = 2
else
  return 0
end
local extra = decodeJson(ARGV[3], 'batch fields')
if not extra then return badArgs('batch fields are not a JSON object') end
if (#ARGV - 3) % 2 ~= 0 then return badArgs('file arguments are not index/json pairs') end
for i = 4, #ARGV, 2 do
  if not decodeJson(ARGV[i + 1], 'file ' .. ARGV[i]) then return badArgs('file ' .. ARGV[i] .. ' is not readable JSON') end
end
if result == 2 then
  redis.call('HSET', KEYS[2], 'claim', ARGV[1])
  redis.call('HDEL', KEYS[2], 'lease_until')
end
redis.call('HSET', KEYS[2], 'state', 'submitted')
-- The task holds a foxapi slot whether or not the claim's SADD survived.
redis.call('SADD', KEYS[4], KEYS[2])
for k, v in pairs(extra) do redis.call('HSET', KEYS[2], k, tostring(v)) end
local n = 0
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  n = n + 1
end
incrBy(KEYS[1], 'f_queued', -n)
incrBy(KEYS[1], 'f_submitted', n)
redis.call('HINCRBY', KEYS[1], 'b_queued', -1)
redis.call('HINCRBY', KEYS[1], 'b_submitted', 1)
if redis.call('HGET', KEYS[1], 'status') == 'queued' then redis.call('HSET', KEYS[1], 'status', 'running') end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[2])
return result
`;

/**
 * countBackoff: one more consecutive upstream failure of a batch, counted only while the batch
 * record exists, so a batch cancelled and deleted meanwhile is not brought back without a TTL.
 * KEYS: batch. Returns the new count (1 when the record is gone).
 */
export const COUNT_BACKOFF = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
return redis.call('HINCRBY', KEYS[1], 'backoffs', 1)
`;

/**
 * finishBatch: any of the expected states → a terminal batch state, with every file's outcome.
 * KEYS: job, batch, files, inflight, webhook outbox, usage day, usage month, usage totals, then
 *       every batch key of the job (0 … b_total-1).
 * ARGV: expectedStatesCsv, newState, nowIso, retentionS, batchFieldsJson, channel, jobId, usageJson,
 *       then index/json/status triples (status: completed|failed|cancelled).
 * The usage keys and usageJson are usage-scripts.ts's (usage.ts's finishUsage builds them).
 * Returns 1, 0 if the batch was not in an expected state (a replay: nothing changes), -1 when
 * the batch is gone; a STALE error reply when the batch keys given are not the job's (re-read b_total).
 */
export const FINISH_BATCH = `${SAFE_LUA}${SETTLE_JOB_LUA}${RECORD_USAGE_LUA}
local state = redis.call('HGET', KEYS[2], 'state')
if not state then return -1 end
local expected = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then expected = true end end
if not expected then return 0 end
local _, keysErr = checkBatchKeys(KEYS[1], 9) -- usage: batch keys from 9 (were from 6)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
local fileFrom = 'queued'
local batchFrom = 'queued'
if state == 'submitted' then fileFrom = 'submitted'; batchFrom = 'submitted' end
local moved = { completed = 0, failed = 0, cancelled = 0 }
if moved[ARGV[2]] == nil then return badArgs('unknown batch state ' .. ARGV[2]) end
local extra = decodeJson(ARGV[5], 'batch fields')
if not extra then return badArgs('batch fields are not a JSON object') end
if (#ARGV - 8) % 3 ~= 0 then return badArgs('file arguments are not index/json/status triples') end -- usage: ARGV[8]
for i = 9, #ARGV, 3 do -- usage: triples from 9
  if moved[ARGV[i + 2]] == nil then return badArgs('file ' .. ARGV[i] .. ' has unknown status ' .. ARGV[i + 2]) end
  if not decodeJson(ARGV[i + 1], 'file') then return badArgs('file ' .. ARGV[i] .. ' is not readable JSON') end
end
-- usage: checked before the first write (usage-scripts.ts)
local usage, usageErr = decode_usage(ARGV[8], KEYS[1])
if usageErr == 'STALE' then return redis.error_reply('STALE usage keys name another tenant; nothing was changed') end
if not usage then return badArgs(usageErr) end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'ended_at', ARGV[3])
redis.call('HDEL', KEYS[2], 'claim', 'lease_until')
for k, v in pairs(extra) do redis.call('HSET', KEYS[2], k, tostring(v)) end
local n = 0
for i = 9, #ARGV, 3 do -- usage: triples from 9
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  moved[ARGV[i + 2]] = moved[ARGV[i + 2]] + 1
  n = n + 1
end
incrBy(KEYS[1], 'f_' .. fileFrom, -n)
for k, v in pairs(moved) do if v > 0 then redis.call('HINCRBY', KEYS[1], 'f_' .. k, v) end end
redis.call('HINCRBY', KEYS[1], 'b_' .. batchFrom, -1)
redis.call('HINCRBY', KEYS[1], 'b_' .. ARGV[2], 1)
redis.call('SREM', KEYS[4], KEYS[2])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
record_usage(KEYS[1], KEYS[6], KEYS[7], KEYS[8], usage, moved.completed) -- usage: with the counts it belongs to
settleJob(KEYS[1], KEYS[3], KEYS[5], 9, ARGV[3], ARGV[4]) -- usage: batch keys from 9
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
`;

/**
 * updateBatchIfState: sets batch fields only while the batch is in the expected state, so a
 * step that lost a race with a cancel and delete cannot recreate the key (without a TTL).
 * KEYS: batch. ARGV: expectedState, then field/value pairs. Returns 1 if written.
 */
export const UPDATE_BATCH_IF_STATE = `
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`;
