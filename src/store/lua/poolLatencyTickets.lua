-- poolLatencyTickets: a batch of tickets of latency modes (issue 14) enters its slot's latency pool, and
-- every group that can form now is placed in one region of the slot, atomically.
-- KEYS[1]   the slot's routing key (any key with its hash tag)
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, modes: {mode: {size, max, widen: [[afterSeconds, max]]}}}
-- ARGV[3..] the requests, 6 + 2n values each: ticketId, playerId, mode, requestedAt (epoch ms, text),
--           home (the ticket's region), n, then n x (region, ms as text or "" = not measured): the regions of
--           the slot it may be placed in
-- Reply     JSON {results: [one per request: {outcome: "queued", sessionId ("" while pooled), sessionReady, pooled?}
--           | {outcome: "duplicate", state, sessionId?} | {outcome: "rejected", error, detail, liveTicketId?}],
--           ready: [[region, sessionId], ...]}
-- A pool record `Latency:Player:<pid>` (ticketId, mode, home, state waiting|placed|left, requestedAt, lat
-- "region=ms,...", + region and session once placed, leftReason and leftAt once left, seen) is the ticket's
-- redelivery guard, as a region's Player record is for its tickets: the record's ticket, one it remembers
-- (`seen`), or one older than it is a duplicate. A leave that overtook the request wrote its record in the
-- home region (leaveQueue: the ticket was not in the pool), which counts as seen too.
-- Groups (includes/latency_groups.lua) are formed with this batch's tickets as anchors, in order; a
-- ticket that is in no group waits in the pool (Waiting:<mode> by requestedAt, ByLatency:<mode>:<region>
-- by latency) for a later batch or the sweep (placeLatencyPool.lua), under a max that widens with its wait.
-- Compute first, write last: every decision is made on what was read plus this batch's tickets in Lua
-- tables, and all writes come at the end.
--- @include "latency_prologue"
--- @include "in_region"
--- @include "latency_rules"
--- @include "skill_window"
--- @include "latency_parse"
--- @include "latency_unpool"
--- @include "latency_groups"
--- @include "player_state"
--- @include "detach_matched"
--- @include "ticket_seen"
--- @include "tickets_remembered"
--- @include "latency_place_read"
--- @include "latency_place_write"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local RULES = latency_rules(A.modes)

-- ---------------------------------------------------------------- input (all of it before any write)
local reqs = {}
local a = 3
while a <= #ARGV do
  if #reqs >= 500 then input_error('ARGV[3..]', 'at most 500 requests') end
  if a + 5 > #ARGV then input_error('ARGV[3..]', 'a request is cut short (6 values + 2 per region)') end
  local r = {
    ticketId = check_text('ticketId', ARGV[a], '^[A-Za-z0-9_-]+$', 64),
    pid = check_text('playerId', ARGV[a + 1], '^[A-Za-z0-9_-]+$', 64),
    mode = check_text('mode', ARGV[a + 2], '^[a-z0-9][a-z0-9_-]*$', 32),
    atText = ARGV[a + 3],
    home = check_text('home', ARGV[a + 4], '^[a-z0-9][a-z0-9-]*$', 32),
    ms = {},
    order = {},
  }
  if not RULES[r.mode] then input_error('mode', r.mode .. ' is not a latency mode of this call') end
  if not RP[r.home] then input_error('home', r.home .. ' is not a region of this slot') end
  r.at = check_int('requestedAt', r.atText, 1, 2 ^ 53)
  local n = check_int('regions', ARGV[a + 5], 1, 16)
  if a + 5 + 2 * n > #ARGV then input_error('ARGV[3..]', 'a request is cut short (6 values + 2 per region)') end
  local lat = {}
  for j = 1, n do
    local region = check_text('region', ARGV[a + 4 + 2 * j], '^[a-z0-9][a-z0-9-]*$', 32)
    local v = ARGV[a + 5 + 2 * j]
    if not RP[region] or r.ms[region] ~= nil then input_error('region', region .. ' is not a region of this slot, or is listed twice') end
    r.ms[region] = v ~= '' and check_int('ms', v, 0, 10000) or false
    r.order[j] = region
    lat[j] = region .. '=' .. (v ~= '' and v or '?')
  end
  r.lat = table.concat(lat, ',')
  reqs[#reqs + 1] = r
  a = a + 6 + 2 * n
end
if #reqs < 1 then input_error('ARGV[3..]', 'must hold 1-500 requests') end

-- ---------------------------------------------------------------- reads and decisions
-- Pool records as this batch has left them: pid -> {ticketId, state, at, seen, region, existed}.
local recs = {}
local function pool_rec(pid)
  local r = recs[pid]
  if r then return r end
  local h = redis.call('HMGET', POOL .. 'Player:' .. pid, 'ticketId', 'state', 'requestedAt', 'seen', 'region')
  r = { ticketId = h[1] or nil, state = h[2] or nil, at = tonumber(h[3]), seen = h[4] or nil, region = h[5] or nil }
  r.existed = r.ticketId ~= nil or r.state ~= nil
  recs[pid] = r
  return r
end
-- A player's record in a region of the slot (its regional tickets; a placed latency ticket's).
local function region_rec(region, pid)
  in_region(region)
  local h = redis.call('HMGET', P .. 'Player:' .. pid, 'ticketId', 'state', 'session', 'requestedAt', 'seen')
  local r = { ticketId = h[1] or nil, state = h[2] or nil, session = h[3] or nil, at = tonumber(h[4]), seen = h[5] or nil }
  if r.ticketId then r.state = player_state(r) end
  return r
end

local results = {}
local fresh, freshByMode, freshOf = {}, {}, {}
for i, r in ipairs(reqs) do
  local cur = pool_rec(r.pid)
  local home = region_rec(r.home, r.pid)
  local res
  if ticket_seen(cur.ticketId, nil, cur.seen, r.ticketId, nil) then
    res = { outcome = 'duplicate', state = 'unknown' }
    if cur.ticketId == r.ticketId then res.state = (cur.state == 'placed' and 'unknown') or (cur.state == 'left' and 'left') or 'waiting' end
  elseif home.ticketId == r.ticketId or ticket_seen(home.ticketId, nil, home.seen, r.ticketId, nil) then
    -- A leave overtook the request (leaveQueue recorded it in the home region): never queued.
    res = { outcome = 'duplicate', state = home.ticketId == r.ticketId and home.state or 'unknown' }
  elseif NOW - r.at > retention then
    res = { outcome = 'rejected', error = 'ticket_stale', detail = 'the request is older than the ticket retention (' .. math.floor(retention / 1000) .. ' s); ask for a new ticket' }
  elseif cur.at and r.at < cur.at then
    res = { outcome = 'duplicate', state = 'unknown' }
  else
    local live = cur.state == 'waiting' and cur.ticketId or nil
    if not live and cur.state == 'placed' and cur.region then
      local placed = region_rec(cur.region, r.pid)
      if placed.ticketId == cur.ticketId and placed.state == 'waiting' then live = cur.ticketId end
    end
    -- A live regional ticket in any region of the slot (one orchestration per player makes it rare). A
    -- matched one moves on: it leaves its session's members (as enqueuePlayers does for a new ticket), so a
    -- requeue of that session never brings the player back while it waits here.
    r.moved = {}
    for _, region in ipairs(REGIONS) do
      if live then break end
      local other = region == r.home and home or region_rec(region, r.pid)
      if other.state == 'waiting' then live = other.ticketId end
      if other.state == 'matched' and other.session then r.moved[#r.moved + 1] = { region, other.session } end
    end
    if live then
      res = { outcome = 'rejected', error = 'ticket_live', detail = 'player ' .. r.pid .. ' already has a live ticket ' .. live .. '; cancel it first', liveTicketId = live }
    end
  end
  if res then
    results[i] = res
  else
    r.seen = tickets_remembered(cur.seen, cur.ticketId, cur.at, r.at)
    r.poolExisted = cur.existed
    recs[r.pid] = { ticketId = r.ticketId, state = 'waiting', at = r.at, seen = r.seen, existed = true }
    fresh[#fresh + 1] = i
    freshOf[r.pid] = r
    freshByMode[r.mode] = freshByMode[r.mode] or {}
    local list = freshByMode[r.mode]
    list[#list + 1] = { pid = r.pid, at = r.at, ms = r.ms }
  end
end

local function pool_fields(r)
  local f = { 'ticketId', r.ticketId, 'mode', r.mode, 'home', r.home, 'state', 'waiting', 'requestedAt', r.atText, 'lat', r.lat }
  if r.seen then
    f[#f + 1] = 'seen'
    f[#f + 1] = r.seen
  end
  return f
end

-- Members of a group: this batch's tickets, or tickets already in the pool (their record read here).
local function member(pid)
  local r = freshOf[pid]
  if r then return { ticketId = r.ticketId, atText = r.atText, ms = r.ms, order = r.order, pooled = false, poolFields = pool_fields(r), poolExisted = r.poolExisted } end
  local h = redis.call('HMGET', POOL .. 'Player:' .. pid, 'ticketId', 'requestedAt', 'lat')
  local ms, order = latency_parse(h[3] or nil)
  return { ticketId = h[1], atText = h[2], ms = ms, order = order, pooled = true }
end

local free, taken, plans = {}, {}, {}
for mode, list in pairs(freshByMode) do
  for _, g in ipairs(latency_groups(mode, RULES[mode], list, list, free, taken)) do
    local plan = latency_place_read(mode, g, member)
    if plan then plans[#plans + 1] = plan else for _, pid in ipairs(g.pids) do taken[pid] = nil end end
  end
end

-- ---------------------------------------------------------------- writes
-- A new ticket's matched regional ticket is over for matching: out of its session, its record left (kept for
-- the retention). First: a group placed in that region rewrites the record after this.
for _, i in ipairs(fresh) do
  local r = reqs[i]
  for _, m in ipairs(r.moved) do
    in_region(m[1])
    detach_matched(r.pid, m[2])
    redis.call('HSET', P .. 'Player:' .. r.pid, 'state', 'left', 'leftReason', 'cancelled', 'leftAt', NOW_TEXT)
    redis.call('PEXPIRE', P .. 'Player:' .. r.pid, retentionText)
  end
end
local ready = {}
local sidOf = {}
for k, plan in ipairs(plans) do
  local sid = latency_place_write(plan, retentionText)
  ready[#ready + 1] = { plan.region, sid }
  for _, x in ipairs(plan.members) do sidOf[x.pid] = sid end
end
local waitingPerMode = {}
for _, i in ipairs(fresh) do
  local r = reqs[i]
  local sid = sidOf[r.pid]
  if sid then
    results[i] = { outcome = 'queued', sessionId = sid, sessionReady = true }
  else
    local qkey = POOL .. 'Player:' .. r.pid
    if r.poolExisted then redis.call('DEL', qkey) end
    redis.call('HSET', qkey, unpack(pool_fields(r)))
    redis.call('ZADD', POOL .. 'Waiting:' .. r.mode, r.atText, r.pid)
    for _, region in ipairs(r.order) do redis.call('ZADD', POOL .. 'ByLatency:' .. r.mode .. ':' .. region, int(r.ms[region] or 0), r.pid) end
    waitingPerMode[r.mode] = (waitingPerMode[r.mode] or 0) + 1
    results[i] = { outcome = 'queued', sessionId = '', sessionReady = false, pooled = true }
  end
end
for mode, n in pairs(waitingPerMode) do redis.call('HINCRBY', POOL .. 'WaitingPerMode', mode, int(n)) end

for i = 1, #results do results[i] = cjson.encode(results[i]) end
return '{"results":[' .. table.concat(results, ',') .. '],"ready":' .. (#ready > 0 and cjson.encode(ready) or '[]') .. '}'
