/**
 * Lua for usage counting, as functions that FINISH_BATCH (batch-scripts.ts) concatenates and
 * calls: what one batch's end adds to its job's `usage`, to its tenant's counters of the UTC day
 * and month, and to the all-time totals /metrics shows. It runs in the script that moves the file
 * counts, so the Job never shows usage of files that are not yet completed, and a replayed finish
 * (which moves nothing and returns before calling it) adds nothing twice.
 *
 * Two steps, because a script must check everything before its first write (batch-scripts.ts):
 *   decode_usage(raw, job_key) → usage, or nil and why ('STALE' when the keys were named for
 *     another tenant than the job's): call it before the first write;
 *   record_usage(job_key, day_key, month_key, totals_key, usage, files): call it after the file
 *     counts moved; `files` is how many files this finish completed.
 * `raw` is the JSON that usage.ts's finishUsage builds:
 *   {tenant, day: 'YYYY-MM-DD', audio_ms, billed_ms (absent: foxapi reported nothing), reused, keep_s}
 *
 * Job hash fields: u_audio_ms, u_billed_ms (only once some batch's task reported a billed
 * figure), u_reused, and u_day:<day> = 1 once the job has counted in that day's `jobs`.
 * Day and month hashes: files, audio_ms, billed_ms, reused, and (day only) jobs; both expire
 * keep_s after their last write. Totals hash: <counter>:<tenant> (tenant names have no ':').
 */
export const RECORD_USAGE_LUA = `
-- Whole, non-negative and printed by Redis as plain digits (well below 1e13 ms = 317 years).
local function usage_count(v)
  if type(v) ~= 'number' or v < 0 or v >= 1e13 or math.floor(v) ~= v then return nil end
  if v == 0 then return 0 end -- a JSON -0 would be sent as "-0", which HINCRBY refuses
  return v
end
local function decode_usage(raw, job_key)
  local ok, u = pcall(cjson.decode, raw)
  if not ok or type(u) ~= 'table' then return nil, 'usage is not a JSON object' end
  if type(u.tenant) ~= 'string' or type(u.day) ~= 'string' or not string.match(u.day, '^%d%d%d%d%-%d%d%-%d%d$') then
    return nil, 'usage has no tenant or day'
  end
  if u.billed_ms == cjson.null then u.billed_ms = nil end
  local audio, reused, keep = usage_count(u.audio_ms), usage_count(u.reused), usage_count(u.keep_s)
  local billed = nil
  if u.billed_ms ~= nil then
    billed = usage_count(u.billed_ms)
    if billed == nil then return nil, 'usage billed_ms is not a whole number >= 0' end
  end
  if audio == nil or reused == nil or keep == nil or keep == 0 then return nil, 'usage counts are not whole numbers >= 0' end
  if redis.call('HGET', job_key, 'tenant') ~= u.tenant then return nil, 'STALE' end
  return { tenant = u.tenant, day = u.day, audio_ms = audio, billed_ms = billed, reused = reused, keep_s = keep }
end
local function usage_add(key, field, by)
  if by ~= 0 then redis.call('HINCRBY', key, field, by) end
end
local function record_usage(job_key, day_key, month_key, totals_key, u, files)
  if u.reused > files then u.reused = files end
  -- The job keeps a billed figure of 0 (foxapi did report one); the tenant's counters get a row
  -- only for something that is not zero.
  if u.billed_ms ~= nil then redis.call('HINCRBY', job_key, 'u_billed_ms', u.billed_ms) end
  local billed = u.billed_ms or 0
  if files == 0 and u.audio_ms == 0 and billed == 0 then return end
  usage_add(job_key, 'u_audio_ms', u.audio_ms)
  usage_add(job_key, 'u_reused', u.reused)
  local first_of_day = redis.call('HSETNX', job_key, 'u_day:' .. u.day, '1') == 1
  for _, key in ipairs({ day_key, month_key }) do
    usage_add(key, 'files', files)
    usage_add(key, 'audio_ms', u.audio_ms)
    usage_add(key, 'reused', u.reused)
    if u.billed_ms ~= nil then redis.call('HINCRBY', key, 'billed_ms', u.billed_ms) end
    redis.call('EXPIRE', key, u.keep_s)
  end
  if first_of_day then redis.call('HINCRBY', day_key, 'jobs', 1) end
  usage_add(totals_key, 'files:' .. u.tenant, files)
  usage_add(totals_key, 'audio_ms:' .. u.tenant, u.audio_ms)
  usage_add(totals_key, 'billed_ms:' .. u.tenant, billed)
  usage_add(totals_key, 'reused:' .. u.tenant, u.reused)
end
`;
