import { FILE_STATUSES, TERMINAL_JOB_STATUSES } from '../domain/job.js';
import { STATUS_LETTERS } from './file-entries.js';

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
 * Edits of the files packed into home batches (file-entries.ts): a script gathers them, then
 * `prepareEdits` reads and decodes every record it will change and checks every offset, and
 * only then `applyEdits` writes. The home keys come in KEYS with their numbers in ARGV
 * (`useHomes`); `homeOf` finds a file's among them, so no key name is built here.
 */
export const FILES_LUA = `
local LETTER = {}
${FILE_STATUSES.map((s) => `LETTER['${s}'] = '${STATUS_LETTERS[s]}'`).join('\n')}
local HOMES = {}
-- What an error reply calls a key: the batch it is, not its name.
local LABEL = {}
local function useHomes(firstKey, numbers)
  HOMES = {}
  for k, n in ipairs(numbers) do
    HOMES[tonumber(n)] = KEYS[firstKey + k - 1]
    LABEL[KEYS[firstKey + k - 1]] = 'batch ' .. n
  end
end
local function label(key) return LABEL[key] or key end
local function jobPage(job)
  local page = tonumber(redis.call('HGET', job, 'page'))
  if not page or page < 1 then return nil end
  return page
end
-- The home key and offset of file index idx, or nil when its home was not given.
local function homeOf(idx, page)
  local h = math.floor(idx / page)
  local key = HOMES[h]
  if not key then return nil end
  return key, idx - h * page
end
-- The file indexes a batch carries: a home batch's range (first, n), or a retry batch's list.
local function batchFiles(bkey)
  local fields = redis.call('HMGET', bkey, 'first', 'n', 'files')
  local first, n = tonumber(fields[1]), tonumber(fields[2])
  if first and n then
    local idxs = {}
    for i = 0, n - 1 do idxs[#idxs + 1] = first + i end
    return idxs
  end
  return decodeJson(fields[3], 'the file list of ' .. label(bkey))
end
local function newEdits() return { order = {}, byKey = {} } end
-- err: a table sets the file's error, false clears it, nil keeps it; via: a batch number, or nil.
local function editFile(edits, key, offset, letter, err, via)
  local e = edits.byKey[key]
  if not e then
    e = { key = key, set = {}, err = {}, via = {}, hasErr = false, hasVia = false }
    edits.byKey[key] = e
    edits.order[#edits.order + 1] = e
  end
  e.set[offset] = letter
  if err ~= nil then e.err[tostring(offset)] = err; e.hasErr = true end
  if via ~= nil then e.via[tostring(offset)] = via; e.hasVia = true end
end
local function mergeJsonField(key, field, changes)
  local raw = redis.call('HGET', key, field)
  local value = {}
  if raw then
    local decoded, err = decodeJson(raw, 'the file ' .. field .. ' of ' .. label(key))
    if not decoded then return nil, err end
    value = decoded
  end
  for k, v in pairs(changes) do
    if v == false then value[k] = nil else value[k] = v end
  end
  if next(value) == nil then return false end
  return encodeJson(value, 'the file ' .. field .. ' of ' .. label(key))
end
local function prepareEdits(edits)
  local writes = {}
  for _, e in ipairs(edits.order) do
    local st = redis.call('HGET', e.key, 'st')
    if type(st) ~= 'string' or #st == 0 then return nil, 'the file statuses of ' .. label(e.key) .. ' are missing' end
    local letters = { string.byte(st, 1, -1) }
    for offset, letter in pairs(e.set) do
      if offset < 0 or offset >= #st then return nil, 'file ' .. offset .. ' is not in ' .. label(e.key) end
      letters[offset + 1] = string.byte(letter)
    end
    local w = { key = e.key, st = string.char(unpack(letters)) }
    if e.hasErr then
      local v, err = mergeJsonField(e.key, 'err', e.err)
      if v == nil then return nil, err end
      w.err = v
    end
    if e.hasVia then
      local v, err = mergeJsonField(e.key, 'via', e.via)
      if v == nil then return nil, err end
      w.via = v
    end
    writes[#writes + 1] = w
  end
  return writes
end
local function applyEdits(writes)
  for _, w in ipairs(writes) do
    redis.call('HSET', w.key, 'st', w.st)
    if w.err == false then redis.call('HDEL', w.key, 'err') elseif w.err then redis.call('HSET', w.key, 'err', w.err) end
    if w.via == false then redis.call('HDEL', w.key, 'via') elseif w.via then redis.call('HSET', w.key, 'via', w.via) end
  end
end
`;

/**
 * Shared tail: once no batch is queued or open, and no chunked action is under way, decide the
 * job's terminal status and expire it. Every key it touches is declared: the job, the webhook
 * outbox, and the job's batch keys from KEYS[firstBatch] on (all b_total of them, checked
 * by checkBatchKeys before the caller's first write). A counter that is not a number reads as 0.
 */
export const SETTLE_JOB_LUA = `${TERMINAL_LUA}
local function checkBatchKeys(jobKey, firstBatch)
  local batches = tonumber(redis.call('HGET', jobKey, 'b_total'))
  if not batches then return nil, 'the job record (b_total)' end
  if #KEYS - firstBatch + 1 ~= batches then return nil, 'STALE' end
  return batches
end
local function settleJob(jobKey, outboxKey, firstBatch, now, retention)
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
 * recordSubmitted: submitting → submitted with the task id, before the first poll; the batch's
 * files move queued → submitted in their home records.
 * KEYS: job, batch, inflight, then the home batches of the batch's files. ARGV: token, nowIso,
 * batchFieldsJson, then the home batch numbers (in KEYS order).
 * Returns 1; 2 when the claim had vanished but the batch is still `queued` with no claim (Redis
 * lost the claim's write: a crash under `appendfsync everysec`, a failover to a replica behind,
 * or a claim released after its lease): the task exists and is paid for, so it is recorded
 * rather than left for another worker to submit again; or 0 when another attempt owns the
 * batch now or it has moved on (this task is then orphaned).
 */
export const RECORD_SUBMITTED = `${SAFE_LUA}${FILES_LUA}
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
local page = jobPage(KEYS[1])
if not page then return damaged('the job record (page)') end
useHomes(4, { unpack(ARGV, 4) })
local idxs, ferr = batchFiles(KEYS[2])
if not idxs then return damaged(ferr) end
local edits = newEdits()
for _, idx in ipairs(idxs) do
  local home, offset = homeOf(idx, page)
  if not home then return badArgs('the home batch of file ' .. idx .. ' was not given') end
  editFile(edits, home, offset, LETTER.submitted)
end
local writes, werr = prepareEdits(edits)
if not writes then return damaged(werr) end
if result == 2 then
  redis.call('HSET', KEYS[2], 'claim', ARGV[1])
  redis.call('HDEL', KEYS[2], 'lease_until')
end
redis.call('HSET', KEYS[2], 'state', 'submitted')
-- The task holds a foxapi slot whether or not the claim's SADD survived.
redis.call('SADD', KEYS[3], KEYS[2])
for k, v in pairs(extra) do redis.call('HSET', KEYS[2], k, tostring(v)) end
applyEdits(writes)
incrBy(KEYS[1], 'f_queued', -#idxs)
incrBy(KEYS[1], 'f_submitted', #idxs)
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
 * finishBatch: any of the expected states → a terminal batch state, with every file's outcome
 * written into its home record.
 * KEYS: job, batch, inflight, webhook outbox, then every batch key of the job (0 … b_total-1;
 * the home batches are the first of them).
 * ARGV: expectedStatesCsv, newState, nowIso, retentionS, batchFieldsJson, channel, jobId, then
 *       index/status/error triples (status: completed|failed|cancelled; error: ErrorInfo JSON or '').
 * Returns 1, 0 if the batch was not in an expected state (a replay: nothing changes), -1 when
 * the batch is gone; a STALE error reply when the batch keys given are not the job's (re-read b_total).
 */
export const FINISH_BATCH = `${SAFE_LUA}${FILES_LUA}${SETTLE_JOB_LUA}
local state = redis.call('HGET', KEYS[2], 'state')
if not state then return -1 end
local expected = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then expected = true end end
if not expected then return 0 end
local batches, keysErr = checkBatchKeys(KEYS[1], 5)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
local page = jobPage(KEYS[1])
if not page then return damaged('the job record (page)') end
local numbers = {}
for b = 0, batches - 1 do numbers[#numbers + 1] = b end
useHomes(5, numbers)
local fileFrom = 'queued'
local batchFrom = 'queued'
if state == 'submitted' then fileFrom = 'submitted'; batchFrom = 'submitted' end
local moved = { completed = 0, failed = 0, cancelled = 0 }
if moved[ARGV[2]] == nil then return badArgs('unknown batch state ' .. ARGV[2]) end
local extra = decodeJson(ARGV[5], 'batch fields')
if not extra then return badArgs('batch fields are not a JSON object') end
if (#ARGV - 7) % 3 ~= 0 then return badArgs('file arguments are not index/status/error triples') end
local edits = newEdits()
for i = 8, #ARGV, 3 do
  local idx, status, errRaw = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2]
  if not idx then return badArgs('file index ' .. ARGV[i]) end
  if moved[status] == nil then return badArgs('file ' .. ARGV[i] .. ' has unknown status ' .. status) end
  local err = false
  if errRaw ~= '' then
    err = decodeJson(errRaw, 'error')
    if not err then return badArgs('the error of file ' .. ARGV[i] .. ' is not readable JSON') end
  end
  local home, offset = homeOf(idx, page)
  if not home then return badArgs('file ' .. ARGV[i] .. ' is not a file of this job') end
  editFile(edits, home, offset, LETTER[status], err)
  moved[status] = moved[status] + 1
end
local writes, werr = prepareEdits(edits)
if not writes then return damaged(werr) end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'ended_at', ARGV[3])
-- What collecting kept between attempts is in the home records now.
redis.call('HDEL', KEYS[2], 'claim', 'lease_until', 'collected', 'unusable_tries')
for k, v in pairs(extra) do redis.call('HSET', KEYS[2], k, tostring(v)) end
applyEdits(writes)
local n = (#ARGV - 7) / 3
incrBy(KEYS[1], 'f_' .. fileFrom, -n)
for k, v in pairs(moved) do if v > 0 then redis.call('HINCRBY', KEYS[1], 'f_' .. k, v) end end
redis.call('HINCRBY', KEYS[1], 'b_' .. batchFrom, -1)
redis.call('HINCRBY', KEYS[1], 'b_' .. ARGV[2], 1)
redis.call('SREM', KEYS[3], KEYS[2])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
settleJob(KEYS[1], KEYS[4], 5, ARGV[3], ARGV[4])
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
