import { FILES_LUA, SAFE_LUA, SETTLE_JOB_LUA, TERMINAL_LUA } from './batch-scripts.js';

/**
 * Cancel, retry and delete of a job, as bounded chunks: a start step that marks the job (its
 * `pending_action` and `action_cursor`), chunk steps that each move a few batches or scan a
 * thousand files, and a last step that clears the mark and settles the job. Each step is atomic
 * and moves files and the job's counts together, so the counts sum to the total between any two
 * steps. A chunk step checks the cursor it was given against the job's: a second runner (a
 * crashed call resumed by the next one, or the worker's sweep) finds it moved and re-reads.
 * Every key a step touches is in KEYS; the job's batch keys are passed by the caller.
 */

/** A step that found another action under way answers {'pending', action} and changes nothing. */
const OTHER_ACTION = `
local function otherAction(job)
  local pending = redis.call('HGET', job, 'pending_action')
  if pending then return { 'pending', pending } end
  return nil
end
`;

/**
 * cancelBatches: the queued batches among KEYS[first … last] (and their files) are cancelled;
 * open tasks run to their end. The home batches of a retry batch's files follow in KEYS, their
 * numbers given to useHomes by the caller. Every record it changes is read and checked before
 * the first write; one that cannot be read answers a DAMAGED error reply and nothing changes.
 */
const CANCEL_BATCHES_LUA = `
local function cancelBatches(job, first, last, now)
  local page = jobPage(job)
  if not page then return damaged('the job record (page)') end
  local cancelled = {}
  local files = 0
  local edits = newEdits()
  for k = first, last do
    local bkey = KEYS[k]
    if redis.call('HGET', bkey, 'state') == 'queued' then
      local idxs, err = batchFiles(bkey)
      if not idxs then return damaged(err) end
      for _, idx in ipairs(idxs) do
        local home, offset = homeOf(idx, page)
        if not home then return badArgs('the home batch of file ' .. idx .. ' was not given') end
        editFile(edits, home, offset, LETTER.cancelled)
      end
      cancelled[#cancelled + 1] = bkey
      files = files + #idxs
    end
  end
  local writes, werr = prepareEdits(edits)
  if not writes then return damaged(werr) end
  for _, bkey in ipairs(cancelled) do redis.call('HSET', bkey, 'state', 'cancelled', 'ended_at', now) end
  applyEdits(writes)
  incrBy(job, 'f_queued', -files)
  incrBy(job, 'f_cancelled', files)
  incrBy(job, 'b_queued', -#cancelled)
  incrBy(job, 'b_cancelled', #cancelled)
  return nil
end
`;

/**
 * The start of a cancel, with its first chunk (so a damaged record there changes nothing at all).
 * KEYS: job, pending actions, then n batch keys from 0, then the home batches of the retry
 * batches among them. ARGV: tenant, nowIso, nowMs, jobId, channel, n, then the home numbers.
 * Returns {'missing'} | {'noop'} | {'finished'} | {'pending', action} | {'ok'}.
 */
export const CANCEL_START = `${SAFE_LUA}${FILES_LUA}${TERMINAL_LUA}${OTHER_ACTION}${CANCEL_BATCHES_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return { 'missing' } end
local other = otherAction(job)
if other then return other end
local status = redis.call('HGET', job, 'status')
if status == 'cancelled' or status == 'cancelling' then return { 'noop' } end
if isTerminal(status) then return { 'finished' } end
if not tonumber(redis.call('HGET', job, 'b_total')) then return damaged('the job record (b_total)') end
local n = tonumber(ARGV[6])
useHomes(3 + n, { unpack(ARGV, 7) })
local refused = cancelBatches(job, 3, 2 + n, ARGV[2])
if refused then return refused end
redis.call('HSET', job, 'status', 'cancelling', 'updated_at', ARGV[2], 'pending_action', 'cancel', 'action_cursor', n)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[4])
return { 'ok' }
`;

/**
 * One more chunk of a cancel. A damaged record here answers DAMAGED with this chunk unchanged;
 * the job stays `cancelling`, and the next cancel call runs this chunk again.
 * KEYS: job, then n batch keys from the cursor, then the home batches of the retry batches among
 * them. ARGV: cursor, nowIso, n, then the home numbers. Returns 'moved' (not this runner's turn) or 'ok'.
 */
export const CANCEL_CHUNK = `${SAFE_LUA}${FILES_LUA}${CANCEL_BATCHES_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'cancel' or redis.call('HGET', job, 'action_cursor') ~= ARGV[1] then return 'moved' end
local n = tonumber(ARGV[3])
useHomes(2 + n, { unpack(ARGV, 4) })
local refused = cancelBatches(job, 2, 1 + n, ARGV[2])
if refused then return refused end
redis.call('HSET', job, 'action_cursor', tonumber(ARGV[1]) + n, 'updated_at', ARGV[2])
return 'ok'
`;

/**
 * The start of a retry: marks it, and changes nothing else until every file record was scanned
 * (RETRY_SCAN), so a record that cannot be read aborts the retry with the job as it was.
 * KEYS: job, pending actions. ARGV: tenant, nowMs, jobId.
 * Returns {'missing'} | {'running'} | {'nothing'} | {'pending', action} | {'ok'}.
 */
export const RETRY_START = `${TERMINAL_LUA}${OTHER_ACTION}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return { 'missing' } end
local other = otherAction(job)
if other then return other end
if not isTerminal(redis.call('HGET', job, 'status')) then return { 'running' } end
if (tonumber(redis.call('HGET', job, 'f_failed')) or 0) == 0 then return { 'nothing' } end
redis.call('HSET', job, 'pending_action', 'retry', 'action_cursor', 0)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return { 'ok' }
`;

/** Drops a retry still scanning (a damaged record, or nothing found). KEYS: job, found list, pending actions. ARGV: jobId. */
export const RETRY_ABORT = `
if redis.call('HGET', KEYS[1], 'pending_action') ~= 'retry' or redis.call('HEXISTS', KEYS[1], 'retry_committed') == 1 then return 0 end
redis.call('HDEL', KEYS[1], 'pending_action', 'action_cursor')
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/**
 * Every record scanned: the job is running again, and nothing of it may expire while it runs.
 * KEYS: job, then every batch key of the job (0 … b_total-1). ARGV: nowIso.
 * Returns 'moved' | 'ok'; STALE error reply when the batch keys are not the job's.
 */
export const RETRY_COMMIT = `${SAFE_LUA}${SETTLE_JOB_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'retry' or redis.call('HEXISTS', job, 'retry_committed') == 1 then return 'moved' end
local _, keysErr = checkBatchKeys(job, 2)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
redis.call('HSET', job, 'status', 'running', 'updated_at', ARGV[1], 'retry_committed', 1)
redis.call('HDEL', job, 'finished_at', 'error')
for k = 2, #KEYS do redis.call('PERSIST', KEYS[k]) end
redis.call('PERSIST', job)
return 'ok'
`;

/**
 * Looks at the statuses of home batches cursor … cursor+n-1 and notes the failed files in the
 * found list. Changes no file and no count. KEYS: job, found list, then the n home batch keys.
 * ARGV: cursor. Returns {'moved'} | {'ok', nextCursor, homes}.
 */
export const RETRY_SCAN = `${SAFE_LUA}${FILES_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'retry' or redis.call('HGET', job, 'action_cursor') ~= ARGV[1] then return { 'moved' } end
local total = tonumber(redis.call('HGET', job, 'f_total'))
if not total then return damaged('the job record (f_total)') end
local page = jobPage(job)
if not page then return damaged('the job record (page)') end
local homes = math.ceil(total / page)
local from = tonumber(ARGV[1])
local n = #KEYS - 2
if from + n > homes then return badArgs((from + n) .. ' home batches asked of ' .. homes) end
local found = {}
for k = 1, n do
  local home = 'batch ' .. (from + k - 1)
  local st = redis.call('HGET', KEYS[2 + k], 'st')
  if type(st) ~= 'string' then return damaged('the file statuses of ' .. home .. ' are missing') end
  local base = (from + k - 1) * page
  local inHome = {}
  local at = string.find(st, LETTER.failed, 1, true)
  while at do
    inHome[#inHome + 1] = base + at - 1
    at = string.find(st, LETTER.failed, at + 1, true)
  end
  if #inHome > 0 then
    -- The emit rewrites these, so one that cannot be read stops the retry here, before it is committed.
    for _, field in ipairs({ 'err', 'via' }) do
      local raw = redis.call('HGET', KEYS[2 + k], field)
      if raw and not decodeJson(raw, field) then return damaged('the file ' .. field .. ' of ' .. home .. ' is not readable JSON') end
    end
    found[#found + 1] = inHome
  end
end
-- One RPUSH per home batch: unpack of a whole scan's worth could overflow Lua's stack.
for _, inHome in ipairs(found) do redis.call('RPUSH', KEYS[2], unpack(inHome)) end
redis.call('HSET', job, 'action_cursor', from + n)
return { 'ok', from + n, homes }
`;

/**
 * Puts found failed files into new batches numbered from b_total on, batchSize each: the files
 * move failed → queued (their home records now name the new batch) and the job's counts with
 * them. Reads and checks every record first.
 * KEYS: job, found list, intake pending, then nb new batch keys, then the home batches of the
 * files taken. ARGV: expected b_total, batchSize, nowIso, nowMs, jobId, nb, then the home numbers.
 * Returns {'moved'} | {'ok', firstBatch, batches}.
 */
export const RETRY_EMIT = `${SAFE_LUA}${FILES_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'retry' or redis.call('HEXISTS', job, 'retry_committed') == 0 or redis.call('HGET', job, 'b_total') ~= ARGV[1] then return { 'moved', 0, 0 } end
local first = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
if not size or size < 1 then return badArgs('batch size ' .. tostring(ARGV[2])) end
local page = jobPage(job)
if not page then return damaged('the job record (page)') end
local nb = tonumber(ARGV[6])
useHomes(4 + nb, { unpack(ARGV, 7) })
local idxs = redis.call('LRANGE', KEYS[2], 0, nb * size - 1)
if math.ceil(#idxs / size) ~= nb then return badArgs(nb .. ' batch keys for ' .. #idxs .. ' files') end
local edits = newEdits()
local batches = {}
for start = 1, #idxs, size do
  local b = first + #batches
  local list = {}
  for k = start, math.min(start + size - 1, #idxs) do
    local idx = tonumber(idxs[k])
    local home, offset = homeOf(idx, page)
    if not home then return badArgs('the home batch of file ' .. idxs[k] .. ' was not given') end
    editFile(edits, home, offset, LETTER.queued, false, b)
    list[#list + 1] = idx
  end
  batches[#batches + 1] = { KEYS[3 + #batches + 1], cjson.encode(list) }
end
local writes, werr = prepareEdits(edits)
if not writes then return damaged(werr) end
applyEdits(writes)
for _, batch in ipairs(batches) do redis.call('HSET', batch[1], 'state', 'queued', 'files', batch[2]) end
redis.call('LTRIM', KEYS[2], #idxs, -1)
incrBy(job, 'f_failed', -#idxs)
incrBy(job, 'f_queued', #idxs)
incrBy(job, 'b_total', nb)
incrBy(job, 'b_queued', nb)
redis.call('HSET', job, 'updated_at', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
return { 'ok', first, nb }
`;

/**
 * KEYS: job, tenant index, pending actions. ARGV: tenant, nowMs, jobId.
 * Returns {'missing'} | {'running'} | {'pending', action} | {'ok', b_total, finished_at, webhook_round}.
 * The job leaves the tenant's index at once and reads as missing from here on.
 */
export const DELETE_START = `${TERMINAL_LUA}${OTHER_ACTION}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return { 'missing' } end
local pending = redis.call('HGET', job, 'pending_action')
local fields = redis.call('HMGET', job, 'b_total', 'finished_at', 'webhook_round')
if pending == 'delete' then return { 'ok', fields[1] or '0', fields[2] or '', fields[3] or '0' } end
if pending then return { 'pending', pending } end
if not isTerminal(redis.call('HGET', job, 'status')) then return { 'running' } end
redis.call('HSET', job, 'pending_action', 'delete', 'action_cursor', 0)
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return { 'ok', fields[1] or '0', fields[2] or '', fields[3] or '0' }
`;

/** KEYS: job, then batch keys cursor … cursor+n-1. ARGV: cursor. Returns 'moved' | 'ok'. */
export const DELETE_CHUNK = `
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'delete' or redis.call('HGET', job, 'action_cursor') ~= ARGV[1] then return 'moved' end
if #KEYS > 1 then redis.call('UNLINK', unpack(KEYS, 2)) end
redis.call('HSET', job, 'action_cursor', tonumber(ARGV[1]) + #KEYS - 1)
return 'ok'
`;

/**
 * The last step of a delete: the found list and the job (UNLINK: freed off the main thread).
 * KEYS: job, found list, pending actions. ARGV: jobId. Returns 'moved' | 'ok'.
 */
export const DELETE_DONE = `
if redis.call('HGET', KEYS[1], 'pending_action') ~= 'delete' then return 'moved' end
redis.call('UNLINK', KEYS[2], KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 'ok'
`;

/**
 * The last step of a cancel or retry: clears the mark and settles the job if nothing is open.
 * KEYS: job, webhook outbox, pending actions, found list, then every batch key of the job.
 * ARGV: action, nowIso, retentionS, jobId, channel. Returns 'moved' | 'ok'; STALE error reply
 * when the batch keys are not the job's.
 */
export const ACTION_DONE = `${SAFE_LUA}${SETTLE_JOB_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= ARGV[1] then return 'moved' end
local _, keysErr = checkBatchKeys(job, 5)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
if redis.call('LLEN', KEYS[4]) > 0 then return badArgs('failed files are still waiting for batches') end
redis.call('HDEL', job, 'pending_action', 'action_cursor', 'retry_committed')
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('DEL', KEYS[4])
redis.call('HSET', job, 'updated_at', ARGV[2])
settleJob(job, KEYS[2], 5, ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[4])
return 'ok'
`;
