import { FILE_STATUSES, TERMINAL_JOB_STATUSES } from '../domain/job.js';
import { STATUS_LETTERS } from './file-entries.js';
import { RECORD_USAGE_LUA } from './usage-scripts.js';
import { REUSE_LEARN_LUA } from './reuse-scripts.js';

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
-- The file indexes a batch carries: its list when it has one (a retry's batch, or a batch whose
-- reused files were taken out of it, REUSE_SPLIT), else a home batch's range (first, n).
local function batchFiles(bkey)
  local fields = redis.call('HMGET', bkey, 'first', 'n', 'files')
  local first, n = tonumber(fields[1]), tonumber(fields[2])
  if first and n and not fields[3] then
    local idxs = {}
    for i = 0, n - 1 do idxs[#idxs + 1] = first + i end
    return idxs
  end
  return decodeJson(fields[3], 'the file list of ' .. label(bkey))
end
local function newEdits() return { order = {}, byKey = {} } end
-- err: a table sets the file's error, false clears it, nil keeps it; via: a batch number, or nil;
-- ru: the "<source>:<index>" a reused file reads its transcript from (REUSE_SPLIT), or nil.
local function editFile(edits, key, offset, letter, err, via, ru)
  local e = edits.byKey[key]
  if not e then
    e = { key = key, set = {}, err = {}, via = {}, ru = {}, hasErr = false, hasVia = false, hasRu = false }
    edits.byKey[key] = e
    edits.order[#edits.order + 1] = e
  end
  e.set[offset] = letter
  if err ~= nil then e.err[tostring(offset)] = err; e.hasErr = true end
  if via ~= nil then e.via[tostring(offset)] = via; e.hasVia = true end
  if ru ~= nil then e.ru[tostring(offset)] = ru; e.hasRu = true end
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
    if e.hasRu then
      local v, err = mergeJsonField(e.key, 'ru', e.ru)
      if v == nil then return nil, err end
      w.ru = v
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
    if w.ru then redis.call('HSET', w.key, 'ru', w.ru) end
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
 * written into its home record, and what the batch cost counted with the counts it moves.
 * KEYS: job, batch, inflight, webhook outbox, usage day, usage month, usage totals, the tenant's
 * reuse index of the current period, then every batch key of the job (0 … b_total-1; the home
 * batches are the first of them).
 * ARGV: expectedStatesCsv, newState, nowIso, retentionS, batchFieldsJson, channel, jobId, usageJson,
 *       learnJson, then index/status/error triples (status: completed|failed|cancelled; error:
 *       ErrorInfo JSON or '').
 * The usage keys and usageJson are usage-scripts.ts's (usage.ts's finishUsage builds them); the
 * reuse index key and learnJson reuse-scripts.ts's (reuse-index.ts builds them): every file it
 * completes enters the tenant's index, so a later job with `reuse` finds its transcript.
 * Returns 1, 0 if the batch was not in an expected state (a replay: nothing changes), -1 when
 * the batch is gone; a STALE error reply when the batch keys given are not the job's (re-read b_total).
 */
export const FINISH_BATCH = `${SAFE_LUA}${FILES_LUA}${SETTLE_JOB_LUA}${RECORD_USAGE_LUA}${REUSE_LEARN_LUA}
local state = redis.call('HGET', KEYS[2], 'state')
if not state then return -1 end
local expected = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == state then expected = true end end
if not expected then return 0 end
local FIRST_BATCH = 9
local FIRST_FILE = 10
local batches, keysErr = checkBatchKeys(KEYS[1], FIRST_BATCH)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
local page = jobPage(KEYS[1])
if not page then return damaged('the job record (page)') end
local numbers = {}
for b = 0, batches - 1 do numbers[#numbers + 1] = b end
useHomes(FIRST_BATCH, numbers)
local fileFrom = 'queued'
local batchFrom = 'queued'
if state == 'submitted' then fileFrom = 'submitted'; batchFrom = 'submitted' end
local moved = { completed = 0, failed = 0, cancelled = 0 }
if moved[ARGV[2]] == nil then return badArgs('unknown batch state ' .. ARGV[2]) end
local extra = decodeJson(ARGV[5], 'batch fields')
if not extra then return badArgs('batch fields are not a JSON object') end
if (#ARGV - FIRST_FILE + 1) % 3 ~= 0 then return badArgs('file arguments are not index/status/error triples') end
local edits = newEdits()
local completed = {}
for i = FIRST_FILE, #ARGV, 3 do
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
  if status == 'completed' then completed[#completed + 1] = idx end
end
-- Usage is checked before the first write too (usage-scripts.ts).
local usage, usageErr = decode_usage(ARGV[8], KEYS[1])
if usageErr == 'STALE' then return redis.error_reply('STALE usage keys name another tenant; nothing was changed') end
if not usage then return badArgs(usageErr) end
local learn, learnErr = decode_learn(ARGV[9])
if not learn then return badArgs(learnErr) end
local writes, werr = prepareEdits(edits)
if not writes then return damaged(werr) end
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'ended_at', ARGV[3])
-- What collecting kept between attempts is in the home records now.
redis.call('HDEL', KEYS[2], 'claim', 'lease_until', 'collected', 'unusable_tries')
for k, v in pairs(extra) do redis.call('HSET', KEYS[2], k, tostring(v)) end
applyEdits(writes)
local n = (#ARGV - FIRST_FILE + 1) / 3
incrBy(KEYS[1], 'f_' .. fileFrom, -n)
for k, v in pairs(moved) do if v > 0 then redis.call('HINCRBY', KEYS[1], 'f_' .. k, v) end end
redis.call('HINCRBY', KEYS[1], 'b_' .. batchFrom, -1)
redis.call('HINCRBY', KEYS[1], 'b_' .. ARGV[2], 1)
redis.call('SREM', KEYS[3], KEYS[2])
redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
record_usage(KEYS[1], KEYS[5], KEYS[6], KEYS[7], usage, moved.completed)
-- The transcripts were stored before this script ran: the index never names one that is not.
learn_reuse(KEYS[8], ARGV[7], learn, completed)
settleJob(KEYS[1], KEYS[4], FIRST_BATCH, ARGV[3], ARGV[4])
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

/**
 * reuseSplit: before a queued batch is submitted, the files that need no foxapi task leave it
 * (docs/architecture.md, "Reuse"): those completed from an earlier transcript (queued →
 * completed, `ru` names the transcript, counted as reused in the job's and tenant's usage, and
 * the source job learns this job as a referrer of its blobs), and those that wait for an earlier
 * file of the same job still at foxapi (moved into a new queued batch, numbered b_total, when the
 * rest go out now; else the batch keeps only them and waits). A home names its files' source
 * jobs once, in `rs` (a JSON list), and each reused file's `ru` entry by position in it: a job
 * id is 30 bytes, repeated for every file otherwise. The batch then carries the rest
 * (`files`), in the order they will be submitted; with nothing left it ends `completed` with no
 * task, and may settle the job. Every source job is checked in the same step: it must still be
 * the tenant's and not being deleted, so a reuse never points at a transcript about to go.
 * KEYS: job, batch, new batch (number b_total), intake pending, webhook outbox, usage day, month,
 * totals, then k source job keys, then their k blob reference sets, then every batch key of the
 * job (0 … b_total-1).
 * ARGV: nowIso, retentionS, channel, jobId, usageJson, k, expectedFilesJson (the batch's files as
 * read), reusedJson ([[index, source 1..k, source index], …]), deferredJson ([index, …]),
 * restJson ([index, …]), nowMs, then the k source job ids.
 * Returns {'ok', ended 0|1, new batch number or -1}; {'moved'} when the batch is no longer the
 * one planned for (a replay); {'cancelling'}; {'intake'} when a new batch is needed while the
 * job is on intake pending (its intake or a retry is still enqueueing: nothing changed, try
 * again shortly); {'invalid', source numbers…} when some sources may
 * not be read (nothing changed: plan without them); -1 when the batch is gone; STALE error reply
 * when the batch keys are not the job's.
 */
export const REUSE_SPLIT = `${SAFE_LUA}${FILES_LUA}${SETTLE_JOB_LUA}${RECORD_USAGE_LUA}
local job = KEYS[1]
local state = redis.call('HGET', KEYS[2], 'state')
if not state then return -1 end
if state ~= 'queued' then return { 'moved' } end
local status = redis.call('HGET', job, 'status')
if status == 'cancelling' or status == 'cancelled' then return { 'cancelling' } end
local k = tonumber(ARGV[6])
if not k or k < 0 then return badArgs('source count ' .. tostring(ARGV[6])) end
local FIRST_BATCH = 9 + 2 * k
local batches, keysErr = checkBatchKeys(job, FIRST_BATCH)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
local page = jobPage(job)
if not page then return damaged('the job record (page)') end
local numbers = {}
for b = 0, batches - 1 do numbers[#numbers + 1] = b end
useHomes(FIRST_BATCH, numbers)
local current, cerr = batchFiles(KEYS[2])
if not current then return damaged(cerr) end
local expected = decodeJson(ARGV[7], 'expected files')
local reused = decodeJson(ARGV[8], 'reused files')
local deferred = decodeJson(ARGV[9], 'deferred files')
local rest = decodeJson(ARGV[10], 'remaining files')
if not expected or not reused or not deferred or not rest then return badArgs('file lists are not JSON arrays') end
if #current ~= #expected then return { 'moved' } end
local carried = {}
for i, idx in ipairs(current) do
  if expected[i] ~= idx then return { 'moved' } end
  carried[idx] = true
end
if #reused + #deferred + #rest ~= #current then return badArgs('the planned files are not the batch files') end
for _, idx in ipairs(rest) do if not carried[idx] then return badArgs('file ' .. tostring(idx) .. ' is not in the batch') end end
local tenant = redis.call('HGET', job, 'tenant')
local invalid = {}
for s = 1, k do
  local src = KEYS[8 + s]
  if redis.call('HGET', src, 'tenant') ~= tenant or redis.call('HGET', src, 'pending_action') == 'delete' then invalid[#invalid + 1] = s end
end
if #invalid > 0 then
  local out = { 'invalid' }
  for _, s in ipairs(invalid) do out[#out + 1] = s end
  return out
end
local statuses = {}
local function queuedAt(idx)
  local home, offset = homeOf(idx, page)
  if not home then return nil, 'the home batch of file ' .. idx .. ' was not given' end
  if statuses[home] == nil then statuses[home] = redis.call('HGET', home, 'st') or false end
  local st = statuses[home]
  if not st or string.sub(st, offset + 1, offset + 1) ~= LETTER.queued then return nil, 'file ' .. idx .. ' is not queued' end
  return home, offset
end
-- A home's rs lists the source jobs its reused files read from; ru names one by position.
local sourceLists = {}
local function sourceRef(home, id)
  local s = sourceLists[home]
  if not s then
    local list = {}
    local raw = redis.call('HGET', home, 'rs')
    if raw then
      local decoded, err = decodeJson(raw, 'the reuse sources of ' .. label(home))
      if not decoded then return nil, err end
      list = decoded
    end
    s = { list = list, pos = {}, changed = false }
    for p, v in ipairs(list) do s.pos[v] = p - 1 end
    sourceLists[home] = s
  end
  if s.pos[id] == nil then
    s.list[#s.list + 1] = id
    s.pos[id] = #s.list - 1
    s.changed = true
  end
  return s.pos[id]
end
local edits = newEdits()
for _, r in ipairs(reused) do
  local idx, s, from = tonumber(r[1]), tonumber(r[2]), tonumber(r[3])
  if not idx or not carried[idx] or not s or s < 1 or s > k or not from or from < 0 then return badArgs('a reused file is not [index, source, index]') end
  local home, offset = queuedAt(idx)
  if not home then return damaged(offset) end
  local ref, rerr = sourceRef(home, ARGV[11 + s])
  if not ref then return damaged(rerr) end
  editFile(edits, home, offset, LETTER.completed, nil, nil, ref .. ':' .. from)
end
local created = -1
if #deferred > 0 and #rest > 0 then created = batches end
for _, idx in ipairs(deferred) do
  if not carried[idx] then return badArgs('file ' .. tostring(idx) .. ' is not in the batch') end
  local home, offset = queuedAt(idx)
  if not home then return damaged(offset) end
  if created >= 0 then editFile(edits, home, offset, LETTER.queued, nil, created) end
end
if created >= 0 and redis.call('EXISTS', KEYS[3]) == 1 then return damaged('batch ' .. created .. ' exists already') end
-- While an intake (or a retry) is still putting the job's batches on the queue, its own
-- intake-pending entry stands for them and is dropped when it is done: a new batch waits for that.
if created >= 0 and redis.call('ZSCORE', KEYS[4], ARGV[4]) then return { 'intake' } end
local usage, usageErr = decode_usage(ARGV[5], job)
if usageErr == 'STALE' then return redis.error_reply('STALE usage keys name another tenant; nothing was changed') end
if not usage then return badArgs(usageErr) end
local writes, werr = prepareEdits(edits)
if not writes then return damaged(werr) end
-- The batch's media entries (m:<position>, batch-store.ts MediaEntry) follow their files to their
-- positions in what it carries from now on; those of files that left it are dropped.
local kept = rest
if #rest == 0 then kept = deferred end
local newPos = {}
for q, idx in ipairs(kept) do newPos[idx] = q - 1 end
local media = {}
for p, idx in ipairs(current) do
  local v = redis.call('HGET', KEYS[2], 'm:' .. (p - 1))
  if v then media[#media + 1] = { from = p - 1, to = newPos[idx], v = v } end
end
applyEdits(writes)
for _, m in ipairs(media) do redis.call('HDEL', KEYS[2], 'm:' .. m.from) end
for _, m in ipairs(media) do if m.to then redis.call('HSET', KEYS[2], 'm:' .. m.to, m.v) end end
for home, list in pairs(sourceLists) do
  if list.changed then redis.call('HSET', home, 'rs', cjson.encode(list.list)) end
end
local ended = 0
if created >= 0 then
  redis.call('HSET', KEYS[3], 'state', 'queued', 'files', ARGV[9])
  redis.call('HINCRBY', job, 'b_total', 1)
  redis.call('HINCRBY', job, 'b_queued', 1)
  -- Until the new batch is on the queue: the intake sweeper enqueues it if this worker dies first.
  redis.call('ZADD', KEYS[4], ARGV[11], ARGV[4])
end
if #rest == 0 and #deferred == 0 then
  redis.call('HSET', KEYS[2], 'state', 'completed', 'ended_at', ARGV[1], 'files', '[]')
  redis.call('HINCRBY', job, 'b_queued', -1)
  redis.call('HINCRBY', job, 'b_completed', 1)
  ended = 1
elseif #rest == 0 then
  redis.call('HSET', KEYS[2], 'files', ARGV[9])
else
  redis.call('HSET', KEYS[2], 'files', ARGV[10])
end
incrBy(job, 'f_queued', -#reused)
incrBy(job, 'f_completed', #reused)
record_usage(job, KEYS[6], KEYS[7], KEYS[8], usage, #reused)
for s = 1, k do
  if ARGV[11 + s] ~= ARGV[4] then redis.call('SADD', KEYS[8 + k + s], ARGV[4]) end
end
if #reused > 0 and status == 'queued' then redis.call('HSET', job, 'status', 'running') end
redis.call('HSET', job, 'updated_at', ARGV[1])
if ended == 1 then settleJob(job, KEYS[5], FIRST_BATCH, ARGV[1], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return { 'ok', ended, created }
`;

/**
 * clearOwnPending: takes a job off intake pending only if its entry is still the one this caller
 * added (REUSE_SPLIT's, score = nowMs), so an entry an intake or a retry made since is left to it.
 * KEYS: intake pending. ARGV: jobId, nowMs. Returns 1 if removed.
 */
export const CLEAR_OWN_PENDING = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]); return 1 end
return 0
`;
