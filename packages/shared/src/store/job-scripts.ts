import { SAFE_LUA, SETTLE_JOB_LUA, TERMINAL_LUA } from './batch-scripts.js';

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
 * cancelBatches: the queued batches among KEYS[first …] (and their files) are cancelled; open
 * tasks run to their end. Every batch list and file record it changes is decoded and re-encoded
 * before the first write; one that cannot be read answers a DAMAGED error reply and nothing changes.
 */
const CANCEL_BATCHES_LUA = `
local function cancelBatches(job, filesKey, first, now)
  local cancelled = {}
  local files = 0
  for k = first, #KEYS do
    local bkey = KEYS[k]
    if redis.call('HGET', bkey, 'state') == 'queued' then
      local idxs, err = decodeJson(redis.call('HGET', bkey, 'files'), 'the file list of ' .. bkey)
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
  for _, batch in ipairs(cancelled) do
    redis.call('HSET', batch[1], 'state', 'cancelled', 'ended_at', now)
    for _, rec in ipairs(batch[2]) do redis.call('HSET', filesKey, rec[1], rec[2]) end
  end
  incrBy(job, 'f_queued', -files)
  incrBy(job, 'f_cancelled', files)
  incrBy(job, 'b_queued', -#cancelled)
  incrBy(job, 'b_cancelled', #cancelled)
  return nil
end
`;

/**
 * The start of a cancel, with its first chunk (so a damaged record there changes nothing at all).
 * KEYS: job, pending actions, files, then batch keys 0 … n-1. ARGV: tenant, nowIso, nowMs, jobId, channel.
 * Returns {'missing'} | {'noop'} | {'finished'} | {'pending', action} | {'ok'}.
 */
export const CANCEL_START = `${SAFE_LUA}${TERMINAL_LUA}${OTHER_ACTION}${CANCEL_BATCHES_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'tenant') ~= ARGV[1] then return { 'missing' } end
local other = otherAction(job)
if other then return other end
local status = redis.call('HGET', job, 'status')
if status == 'cancelled' or status == 'cancelling' then return { 'noop' } end
if isTerminal(status) then return { 'finished' } end
if not tonumber(redis.call('HGET', job, 'b_total')) then return damaged('the job record (b_total)') end
local refused = cancelBatches(job, KEYS[3], 4, ARGV[2])
if refused then return refused end
redis.call('HSET', job, 'status', 'cancelling', 'updated_at', ARGV[2], 'pending_action', 'cancel', 'action_cursor', #KEYS - 3)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[4])
return { 'ok' }
`;

/**
 * One more chunk of a cancel. A damaged record here answers DAMAGED with this chunk unchanged;
 * the job stays `cancelling`, and the next cancel call runs this chunk again.
 * KEYS: job, files, then the batch keys cursor … cursor+n-1. ARGV: cursor, nowIso.
 * Returns 'moved' (not this runner's turn) or 'ok'.
 */
export const CANCEL_CHUNK = `${SAFE_LUA}${CANCEL_BATCHES_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'cancel' or redis.call('HGET', job, 'action_cursor') ~= ARGV[1] then return 'moved' end
local refused = cancelBatches(job, KEYS[2], 3, ARGV[2])
if refused then return refused end
redis.call('HSET', job, 'action_cursor', tonumber(ARGV[1]) + #KEYS - 2, 'updated_at', ARGV[2])
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
 * KEYS: job, files, then every batch key of the job (0 … b_total-1). ARGV: nowIso.
 * Returns 'moved' | 'ok'; STALE error reply when the batch keys are not the job's.
 */
export const RETRY_COMMIT = `${SAFE_LUA}${SETTLE_JOB_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'retry' or redis.call('HEXISTS', job, 'retry_committed') == 1 then return 'moved' end
local _, keysErr = checkBatchKeys(job, 3)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
redis.call('HSET', job, 'status', 'running', 'updated_at', ARGV[1], 'retry_committed', 1)
redis.call('HDEL', job, 'finished_at', 'error')
for k = 2, #KEYS do redis.call('PERSIST', KEYS[k]) end
redis.call('PERSIST', job)
return 'ok'
`;

/**
 * Looks at file records cursor … cursor+count-1 and notes the failed ones in the found list.
 * Changes no file and no count. KEYS: job, files, found list. ARGV: cursor, count.
 * Returns {'moved'} | {'ok', nextCursor, total}.
 */
export const RETRY_SCAN = `${SAFE_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'retry' or redis.call('HGET', job, 'action_cursor') ~= ARGV[1] then return { 'moved' } end
local total = tonumber(redis.call('HGET', job, 'f_total'))
local from = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
if not total then return damaged('the job record (f_total)') end
if not count or count < 1 then return badArgs('scan size ' .. tostring(ARGV[2])) end
local to = math.min(from + count, total)
local found = {}
for i = from, to - 1 do
  local raw = redis.call('HGET', KEYS[2], i)
  if raw then
    local rec, err = decodeJson(raw, 'the record of file ' .. i)
    if not rec then return damaged(err) end
    if rec.s == 'failed' then found[#found + 1] = i end
  end
end
if #found > 0 then redis.call('RPUSH', KEYS[3], unpack(found)) end
redis.call('HSET', job, 'action_cursor', to)
return { 'ok', to, total }
`;

/**
 * Puts found failed files into new batches numbered from b_total on, batchSize each: the files
 * move failed → queued and the job's counts with them. Reads and re-encodes every record first.
 * KEYS: job, files, found list, intake pending, then the new batch keys. ARGV: expected b_total,
 * batchSize, nowIso, nowMs, jobId. Returns {'moved'} | {'ok', firstBatch, batches}.
 */
export const RETRY_EMIT = `${SAFE_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= 'retry' or redis.call('HEXISTS', job, 'retry_committed') == 0 or redis.call('HGET', job, 'b_total') ~= ARGV[1] then return { 'moved', 0, 0 } end
local first = tonumber(ARGV[1])
local size = tonumber(ARGV[2])
if not size or size < 1 then return badArgs('batch size ' .. tostring(ARGV[2])) end
local nb = #KEYS - 4
local idxs = redis.call('LRANGE', KEYS[3], 0, nb * size - 1)
if math.ceil(#idxs / size) ~= nb then return badArgs(nb .. ' batch keys for ' .. #idxs .. ' files') end
local batches = {}
for start = 1, #idxs, size do
  local b = first + #batches
  local list, records = {}, {}
  for k = start, math.min(start + size - 1, #idxs) do
    local idx = tonumber(idxs[k])
    local rec, err = decodeJson(redis.call('HGET', KEYS[2], idx), 'the record of file ' .. tostring(idx))
    if not rec then return damaged(err) end
    rec.s = 'queued'; rec.b = b; rec.e = nil; rec.t = nil
    local raw, eerr = encodeJson(rec, 'the record of file ' .. idx)
    if not raw then return damaged(eerr) end
    list[#list + 1] = idx
    records[#records + 1] = { idx, raw }
  end
  batches[#batches + 1] = { KEYS[4 + #batches + 1], cjson.encode(list), records }
end
for _, batch in ipairs(batches) do
  for _, rec in ipairs(batch[3]) do redis.call('HSET', KEYS[2], rec[1], rec[2]) end
  redis.call('HSET', batch[1], 'state', 'queued', 'files', batch[2])
end
redis.call('LTRIM', KEYS[3], #idxs, -1)
incrBy(job, 'f_failed', -#idxs)
incrBy(job, 'f_queued', #idxs)
incrBy(job, 'b_total', nb)
incrBy(job, 'b_queued', nb)
redis.call('HSET', job, 'updated_at', ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
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
 * The last step of a delete: the files hash (UNLINK: freed off the main thread), the found
 * list and the job. KEYS: job, files, found list, pending actions. ARGV: jobId. Returns 'moved' | 'ok'.
 */
export const DELETE_DONE = `
if redis.call('HGET', KEYS[1], 'pending_action') ~= 'delete' then return 'moved' end
redis.call('UNLINK', KEYS[2], KEYS[3], KEYS[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 'ok'
`;

/**
 * The last step of a cancel or retry: clears the mark and settles the job if nothing is open.
 * KEYS: job, files, webhook outbox, pending actions, found list, then every batch key of the job.
 * ARGV: action, nowIso, retentionS, jobId, channel. Returns 'moved' | 'ok'; STALE error reply
 * when the batch keys are not the job's.
 */
export const ACTION_DONE = `${SAFE_LUA}${SETTLE_JOB_LUA}
local job = KEYS[1]
if redis.call('HGET', job, 'pending_action') ~= ARGV[1] then return 'moved' end
local _, keysErr = checkBatchKeys(job, 6)
if keysErr == 'STALE' then return redis.error_reply('STALE batch keys; nothing was changed') end
if keysErr then return damaged(keysErr) end
if redis.call('LLEN', KEYS[5]) > 0 then return badArgs('failed files are still waiting for batches') end
redis.call('HDEL', job, 'pending_action', 'action_cursor', 'retry_committed')
redis.call('ZREM', KEYS[4], ARGV[4])
redis.call('DEL', KEYS[5])
redis.call('HSET', job, 'updated_at', ARGV[2])
settleJob(job, KEYS[2], KEYS[3], 6, ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[5], ARGV[4])
return 'ok'
`;
