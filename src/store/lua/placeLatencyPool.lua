-- placeLatencyPool: the sweep of a latency mode's pool (issue 14): units (solo tickets, whole parties) that
-- waited long enough for a wider max or skill window form the groups they can now and are placed, atomically.
-- KEYS[1]   the slot's routing key
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, modes: {mode: rule} (includes/latency_rules.lua),
--           mode, offset, max, maxPlayers}
-- Reply     JSON {ready: [[region, sessionId], ...], examined, kept, more}
-- First, per region the oldest open session of the mode (one the pool placed, reopened by a leaver) is
-- completed from the pool if it can be (includes/latency_reopened.lua). Then the anchors: the mode's pooled
-- units `offset` .. `offset + max - 1` in wait order (oldest first); each forms a group under the max and
-- window in force for its own wait (includes/latency_groups.lua), until the groups hold `maxPlayers`
-- players. The store goes round the pool `max` anchors at a time (examined = anchors taken up, kept = those
-- of them still pooled, more = units beyond them), so a sweep's cost is capped however many wait. Compute
-- first, write last.
--- @include "latency_prologue"
--- @include "in_region"
--- @include "latency_rules"
--- @include "latency_unit_reader"
--- @include "latency_groups"
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
local maxPlayers = check_int('maxPlayers', A.maxPlayers, 1, 1000)

-- ---------------------------------------------------------------- reads and computations
local unit_of = latency_unit_reader()
local flat = redis.call('ZRANGE', POOL .. 'Waiting:' .. mode, offset, offset + max)
local anchors = {}
for k = 1, math.min(#flat, max) do
  local u = unit_of(flat[k])
  if u then anchors[#anchors + 1] = u end
end
local taken, plans = {}, {}
local function plan_groups(groups)
  for _, g in ipairs(groups) do
    local plan = latency_place_read(mode, rule, g, unit_of)
    if plan then plans[#plans + 1] = plan else for _, pid in ipairs(g.leaders) do taken[pid] = nil end end
  end
end
-- Sessions a leaver reopened first (their players waited longest), then new groups.
plan_groups(latency_reopened(mode, rule, taken, unit_of, {}))
local groups, examined = latency_groups(mode, rule, anchors, {}, {}, taken, unit_of, maxPlayers)
plan_groups(groups)
local kept = 0
for k = 1, examined do
  if not taken[anchors[k].pid] then kept = kept + 1 end
end

-- ---------------------------------------------------------------- writes
local ready = {}
for _, plan in ipairs(plans) do ready[#ready + 1] = { plan.region, latency_place_write(plan, retentionText) } end
local pairsText = {}
for _, x in ipairs(ready) do pairsText[#pairsText + 1] = '["' .. x[1] .. '","' .. x[2] .. '"]' end
return '{"ready":[' .. table.concat(pairsText, ',') .. '],"examined":' .. examined .. ',"kept":' .. kept .. ',"more":' .. ((#flat > max or examined < #anchors) and 'true' or 'false') .. '}'
