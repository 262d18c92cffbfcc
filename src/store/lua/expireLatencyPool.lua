-- expireLatencyPool: the safety net for lost orchestrators in a latency pool (issue 14): pooled tickets of
-- a mode that waited longer than the max leave with reason `expired`, atomically.
-- KEYS[1]   the slot's routing key
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, mode, playerMaxAgeMs, max}
-- Reply     JSON {players: [{playerId, ticketId}], more}
-- A party expires whole: every member is listed. At most `max` tickets (units) per call (the store loops while `more`). Reads first, then writes.
--- @include "latency_prologue"
--- @include "latency_parse"
--- @include "latency_unpool"

local retentionText = int(check_int('retentionMs', A.retentionMs, 1, 2 ^ 40))
local mode = check_text('mode', A.mode, '^[a-z0-9][a-z0-9_-]*$', 32)
local maxAge = check_int('playerMaxAgeMs', A.playerMaxAgeMs, 0, 2 ^ 40)
local max = check_int('max', A.max, 1, 1000)

local stale = redis.call('ZRANGEBYSCORE', POOL .. 'Waiting:' .. mode, '-inf', int(NOW - maxAge - 1), 'LIMIT', 0, max + 1)
local units = {}
for k = 1, math.min(#stale, max) do
  local h = redis.call('HMGET', POOL .. 'Player:' .. stale[k], 'ticketId', 'lat', 'party')
  local _, order = latency_parse(h[2] or nil)
  local pids = {}
  for m in string.gmatch(h[3] or stale[k], '[^,]+') do pids[#pids + 1] = m end
  units[k] = { leader = stale[k], ticketId = h[1] or '', order = order, pids = pids }
end
local out = {}
for _, u in ipairs(units) do
  latency_unpool(mode, u.leader, u.order, #u.pids)
  for _, pid in ipairs(u.pids) do
    local key = POOL .. 'Player:' .. pid
    redis.call('HSET', key, 'state', 'left', 'leftReason', 'expired', 'leftAt', NOW_TEXT)
    redis.call('PEXPIRE', key, retentionText)
    out[#out + 1] = cjson.encode({ playerId = pid, ticketId = u.ticketId })
  end
end
return '{"players":[' .. table.concat(out, ',') .. '],"more":' .. (#stale > max and 'true' or 'false') .. '}'
