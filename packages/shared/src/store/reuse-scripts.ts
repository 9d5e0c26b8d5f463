/**
 * Lua of the tenant's reuse index (reuse-index.ts; docs/architecture.md, "Reuse"). One HASH per
 * tenant and period of the index, expiring as a whole once the last transcript it can name is
 * past JOB_RETENTION_S, so nothing has to be pruned entry by entry. Its fields:
 *
 *   <fingerprint>  (12 raw bytes)  → "<n>.<index>": file <index> of the period's job number <n>
 *   'j' .. <n>                     → "<job id> <s>": that job, and the second its first file in
 *                                    this period was learnt (a transcript's age is counted from it)
 *   'J' .. <job id>                → <n>: the job's number in this period
 *   '#'                            → the last number given
 *
 * The job number keeps each entry's value within 12 bytes (one 16-byte allocation, a job id is
 * 30 characters); the fingerprint fields are binary for the same reason. A field name of another
 * length than 12 bytes is never a fingerprint ('j' and up to ten digits, 'J' and a job id, '#').
 */

/**
 * learn_reuse, for FINISH_BATCH (batch-scripts.ts): the batch's completed files enter the index.
 *   decode_learn(raw) → learn, or nil and why: call it before the first write. `raw` is JSON
 *     {at: seconds now, ttl: seconds the period's key is kept from now, fps: {"<index>": hex}},
 *     or '' when nothing is learnt (reuse-index.ts learnArgument builds it);
 *   learn_reuse(index_key, job_id, learn, completed): `completed` lists the indexes this finish
 *     completed (only those are learnt, whatever `fps` names).
 */
export const REUSE_LEARN_LUA = `
local function decode_learn(raw)
  if raw == '' then return { fps = {} } end
  local ok, l = pcall(cjson.decode, raw)
  if not ok or type(l) ~= 'table' or type(l.fps) ~= 'table' then return nil, 'the reuse entries are not a JSON object' end
  if type(l.at) ~= 'number' or type(l.ttl) ~= 'number' or l.at < 0 or l.ttl < 1 then return nil, 'the reuse entries have no time' end
  local bins = {}
  for idx, hex in pairs(l.fps) do
    if type(hex) ~= 'string' or not string.match(hex, '^' .. string.rep('%x', 24) .. '$') or not string.match(idx, '^%d+$') then
      return nil, 'the reuse entry of file ' .. tostring(idx) .. ' is not a 24-digit hex fingerprint'
    end
    bins[idx] = (string.gsub(hex, '%x%x', function(h) return string.char(tonumber(h, 16)) end))
  end
  return { at = math.floor(l.at), ttl = math.floor(l.ttl), fps = bins }
end
local function learn_reuse(index_key, job_id, learn, completed)
  local args = {}
  local no = nil
  for _, idx in ipairs(completed) do
    local fp = learn.fps[tostring(idx)]
    if fp then
      if not no then
        no = redis.call('HGET', index_key, 'J' .. job_id)
        if not no then
          no = redis.call('HINCRBY', index_key, '#', 1)
          redis.call('HSET', index_key, 'J' .. job_id, no, 'j' .. no, job_id .. ' ' .. learn.at)
        end
      end
      args[#args + 1] = fp
      args[#args + 1] = no .. '.' .. idx
    end
  end
  if #args == 0 then return end
  redis.call('HSET', index_key, unpack(args))
  redis.call('EXPIRE', index_key, learn.ttl)
end
`;

/**
 * The lookup of one batch's files: for each fingerprint, the newest file that transcribed it
 * within the retention, or nothing. Changes nothing. Whether that job may still be read (not
 * deleted meanwhile) is for REUSE_SPLIT to check, with the job's key.
 * KEYS: the tenant's index periods, newest first. ARGV: now (unix s), retention (s), then the
 * fingerprints (12 raw bytes each). Returns a flat list: job id and index per fingerprint ('' and '' for none).
 */
export const REUSE_LOOKUP = `#!lua flags=no-writes
local now, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local jobs = {}
local out = {}
for a = 3, #ARGV do
  local job, index = '', ''
  for k = 1, #KEYS do
    local v = redis.call('HGET', KEYS[k], ARGV[a])
    local no, idx = nil, nil
    if v then no, idx = string.match(v, '^(%d+)%.(%d+)$') end
    if no then
      local cached = jobs[k .. ':' .. no]
      if cached == nil then
        cached = false
        local rec = redis.call('HGET', KEYS[k], 'j' .. no)
        if rec then
          local id, at = string.match(rec, '^(%S+) (%d+)$')
          if id and tonumber(at) + keep > now then cached = id end
        end
        jobs[k .. ':' .. no] = cached
      end
      if cached then
        job, index = cached, idx
        break
      end
    end
  end
  out[#out + 1] = job
  out[#out + 1] = index
end
return out
`;
