-- placeLatencyPool: the sweep of a latency mode's pool (issue 14): tickets that waited long enough for a
-- wider max form the groups they can now and are placed, atomically.
-- KEYS[1]   the slot's routing key
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, modes: {mode: rule} (includes/latency_rules.lua),
--           mode, offset, max}
-- Reply     JSON {ready: [[region, sessionId], ...], examined, more}
-- First, per region the oldest open session of the mode (one the pool placed, reopened by a leaver) is
-- completed from the pool if it can be (includes/latency_reopened.lua). Then the anchors: the mode's pooled
-- tickets `offset` .. `offset + max - 1` in wait order (oldest first);
-- each forms a group under the max in force for its own wait (includes/latency_groups.lua). The store
-- goes round the pool `max` anchors at a time (more = tickets beyond these), so a sweep's cost is capped
-- however many wait. Compute first, write last.
--- @include "latency_prologue"
--- @include "in_region"
--- @include "latency_rules"
--- @include "skill_window"
--- @include "latency_parse"
--- @include "latency_unpool"
--- @include "latency_groups"
--- @include "session_members"
--- @include "latency_reopened"
--- @include "player_state"
--- @include "detach_matched"
--- @include "tickets_remembered"
--- @include "latency_place_read"
--- @include "latency_place_write"

local retentionText = int(check_int('retentionMs', A.retentionMs, 1, 2 ^ 40))
local RULES = latency_rules(A.modes)
local mode = check_text('mode', A.mode, '^[a-z0-9][a-z0-9_-]*$', 32)
local rule = RULES[mode]
if not rule then input_error('mode', mode .. ' is not a latency mode of this call') end
local offset = check_int('offset', A.offset, 0, 2 ^ 31)
local max = check_int('max', A.max, 1, 200)

-- ---------------------------------------------------------------- reads and computations
local flat = redis.call('ZRANGE', POOL .. 'Waiting:' .. mode, offset, offset + max, 'WITHSCORES')
local anchors, members = {}, {}
for k = 1, math.min(#flat, 2 * max), 2 do
  local pid = flat[k]
  local h = redis.call('HMGET', POOL .. 'Player:' .. pid, 'ticketId', 'requestedAt', 'lat')
  local ms, order = latency_parse(h[3] or nil)
  members[pid] = { ticketId = h[1], atText = h[2], ms = ms, order = order, pooled = true }
  anchors[#anchors + 1] = { pid = pid, at = tonumber(flat[k + 1]), ms = ms }
end
local function member(pid)
  local m = members[pid]
  if m then return m end
  local h = redis.call('HMGET', POOL .. 'Player:' .. pid, 'ticketId', 'requestedAt', 'lat')
  local ms, order = latency_parse(h[3] or nil)
  return { ticketId = h[1], atText = h[2], ms = ms, order = order, pooled = true }
end
local taken, plans = {}, {}
-- Sessions a leaver reopened first (their players waited longest), then new groups.
for _, g in ipairs(latency_reopened(mode, rule, taken)) do
  local plan = latency_place_read(mode, g, member)
  if plan then plans[#plans + 1] = plan else for _, pid in ipairs(g.pids) do taken[pid] = nil end end
end
for _, g in ipairs(latency_groups(mode, rule, anchors, {}, {}, taken)) do
  local plan = latency_place_read(mode, g, member)
  if plan then plans[#plans + 1] = plan else for _, pid in ipairs(g.pids) do taken[pid] = nil end end
end

-- ---------------------------------------------------------------- writes
local ready = {}
for _, plan in ipairs(plans) do ready[#ready + 1] = { plan.region, latency_place_write(plan, retentionText) } end
local pairsText = {}
for _, x in ipairs(ready) do pairsText[#pairsText + 1] = '["' .. x[1] .. '","' .. x[2] .. '"]' end
return '{"ready":[' .. table.concat(pairsText, ',') .. '],"examined":' .. #anchors .. ',"more":' .. (#flat > 2 * max and 'true' or 'false') .. '}'
