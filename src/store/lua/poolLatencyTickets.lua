-- poolLatencyTickets: a batch of tickets of latency modes (issue 14) enters its slot's latency pool, and
-- every group that can form now is placed in one region of the slot, atomically.
-- KEYS[1]   the slot's routing key (any key with its hash tag)
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, modes: {mode: rule} (includes/latency_rules.lua),
--           maxPlayers}
-- ARGV[3..] the requests, 8 + 2n + 2k values each: ticketId, playerId, mode, requestedAt (epoch ms, text),
--           home (the ticket's region), skill (text, "" = none), n, then n x (region, ms as text or "" = not
--           measured): the regions of the slot it may be placed in, then k (party members besides the
--           leader), then k x (memberId, memberSkill)
-- Reply     JSON {results: [one per request: {outcome: "queued", sessionId ("" while pooled), sessionReady, pooled?}
--           | {outcome: "duplicate", state, sessionId?} | {outcome: "rejected", error, detail, liveTicketId?}],
--           ready: [[region, sessionId], ...]}
-- A ticket is one unit in matching: a solo player, or a party (leader + members) that is never split. Each
-- player has a pool record `Latency:Player:<pid>` (ticketId, mode, home, state waiting|placed|left,
-- requestedAt, + region and session once placed, leftReason and leftAt once left, seen; a party's records
-- `party` = all ids, leader first); the leader's also holds the unit's `lat` "region=ms,..." and, in a skill
-- mode, `skills` (the members' skills in party order). The leader's record is the ticket's redelivery guard,
-- as a region's Player record is for its tickets: the record's ticket, one it remembers (`seen`), or one
-- older than it is a duplicate. A leave that overtook the request wrote its record in the home region
-- (leaveQueue: the ticket was not in the pool), which counts as seen too. The pool's indexes hold units
-- under their leader: Waiting:<mode> by requestedAt, ByLatency:<mode>:<region> by latency, and in skill
-- modes BySkill:<mode> by the unit's skill midpoint.
-- First, per region the oldest open session of each mode (a placed session a leaver reopened) is completed
-- from this batch's units and the pool if it can be (includes/latency_reopened.lua), as the sweep does.
-- Then groups (includes/latency_groups.lua) are formed with this batch's units as anchors, in order, until the
-- groups hold `maxPlayers` players (a call's writes are capped); a unit that is in no group waits in the
-- pool for a later batch or the sweep (placeLatencyPool.lua), under a max and skill window that widen with
-- its wait.
-- Compute first, write last: every decision is made on what was read plus this batch's tickets in Lua
-- tables, and all writes come at the end.
--- @include "latency_prologue"
--- @include "in_region"
--- @include "latency_rules"
--- @include "latency_unit_reader"
--- @include "latency_groups"
--- @include "latency_reopened"
--- @include "player_state"
--- @include "detach_matched"
--- @include "ticket_seen"
--- @include "tickets_remembered"
--- @include "skill_text"
--- @include "rules_refusal"
--- @include "latency_place_read"
--- @include "latency_place_write"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local RULES = latency_rules(A.modes)
local maxPlayers = check_int('maxPlayers', A.maxPlayers, 1, 1000)

-- ---------------------------------------------------------------- input (all of it before any write)
local CUT = 'a request is cut short (8 values + 2 per region + 2 per party member)'
local reqs = {}
local a = 3
while a <= #ARGV do
  if #reqs >= 500 then input_error('ARGV[3..]', 'at most 500 requests') end
  if a + 7 > #ARGV then input_error('ARGV[3..]', CUT) end
  local r = {
    ticketId = check_text('ticketId', ARGV[a], '^[A-Za-z0-9_-]+$', 64),
    playerId = check_text('playerId', ARGV[a + 1], '^[A-Za-z0-9_-]+$', 64),
    mode = check_text('mode', ARGV[a + 2], '^[a-z0-9][a-z0-9_-]*$', 32),
    atText = ARGV[a + 3],
    home = check_text('home', ARGV[a + 4], '^[a-z0-9][a-z0-9-]*$', 32),
    skillText = ARGV[a + 5],
    ms = {},
    members = {},
    memberSkills = {},
    memberSkillTexts = {},
  }
  if not RULES[r.mode] then input_error('mode', r.mode .. ' is not a latency mode of this call') end
  if not RP[r.home] then input_error('home', r.home .. ' is not a region of this slot') end
  r.at = check_int('requestedAt', r.atText, 1, 2 ^ 53)
  r.skill = skill_text('skill', r.skillText)
  local n = check_int('regions', ARGV[a + 6], 1, 16)
  if a + 7 + 2 * n > #ARGV then input_error('ARGV[3..]', CUT) end
  local lat = {}
  for j = 1, n do
    local region = check_text('region', ARGV[a + 5 + 2 * j], '^[a-z0-9][a-z0-9-]*$', 32)
    local v = ARGV[a + 6 + 2 * j]
    if not RP[region] or r.ms[region] ~= nil then input_error('region', region .. ' is not a region of this slot, or is listed twice') end
    r.ms[region] = v ~= '' and check_int('ms', v, 0, 10000) or false
    lat[j] = region .. '=' .. (v ~= '' and v or '?')
  end
  r.lat = table.concat(lat, ',')
  local b = a + 7 + 2 * n
  local k = check_int('party', ARGV[b], 0, 100)
  if b + 2 * k > #ARGV then input_error('ARGV[3..]', CUT) end
  for j = 1, k do
    r.members[j] = check_text('party.playerId', ARGV[b + 2 * j - 1], '^[A-Za-z0-9_-]+$', 64)
    r.memberSkillTexts[j] = ARGV[b + 2 * j]
    r.memberSkills[j] = skill_text('party.skill', ARGV[b + 2 * j])
  end
  reqs[#reqs + 1] = r
  a = b + 1 + 2 * k
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
-- A player's live ticket in the slot (pooled, placed and still waiting, or waiting in a region), if any.
-- `moved` gets {region, session} of each matched regional ticket: a new ticket moves on from it (it leaves
-- its session's members, as enqueuePlayers does for a new ticket, so a requeue of that session never brings
-- the player back while it waits here). `home`: its home record, already read.
local function live_ticket(pid, homeRegion, home, moved)
  local cur = pool_rec(pid)
  if cur.state == 'waiting' then return cur.ticketId end
  if cur.state == 'placed' and cur.region then
    local placed = region_rec(cur.region, pid)
    if placed.ticketId == cur.ticketId and placed.state == 'waiting' then return cur.ticketId end
  end
  for _, region in ipairs(REGIONS) do
    local other = (region == homeRegion and home) or region_rec(region, pid)
    if other.state == 'waiting' then return other.ticketId end
    if other.state == 'matched' and other.session then moved[#moved + 1] = { pid, region, other.session } end
  end
  return nil
end

local results = {}
local fresh, freshByMode = {}, {}
local unit_of = latency_unit_reader()
for i, r in ipairs(reqs) do
  local rule = RULES[r.mode]
  local res = rules_refusal(rule, r)
  local cur = pool_rec(r.playerId)
  local home = region_rec(r.home, r.playerId)
  if res then
    -- refused on its own (no state needed)
  elseif ticket_seen(cur.ticketId, nil, cur.seen, r.ticketId, nil) then
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
    r.moved = {}
    local live = live_ticket(r.playerId, r.home, home, r.moved)
    if live then
      res = { outcome = 'rejected', error = 'ticket_live', detail = 'player ' .. r.playerId .. ' already has a live ticket ' .. live .. '; cancel it first', liveTicketId = live }
    end
    for _, m in ipairs(r.members) do
      if res then break end
      live = live_ticket(m, nil, nil, r.moved)
      if live then
        res = { outcome = 'rejected', error = 'party_member_live',
          detail = 'party member ' .. m .. ' already has a live ticket ' .. live .. '; it must cancel it first', liveTicketId = live }
      end
    end
  end
  if res then
    results[i] = res
  else
    -- The unit, and the pool records its players get (written now if it waits, or as placed if it is placed).
    local pids, texts = { r.playerId }, { r.skillText }
    for j, m in ipairs(r.members) do
      pids[j + 1] = m
      texts[j + 1] = r.memberSkillTexts[j]
    end
    local party = #pids > 1 and table.concat(pids, ',') or nil
    local skills = rule.skill and table.concat(texts, ',') or nil
    local u = latency_unit(r.playerId, r.ticketId, r.atText, r.lat, party, skills)
    u.fresh, u.poolWrites = true, {}
    for j, pid in ipairs(pids) do
      local pc = pool_rec(pid)
      local f = { 'ticketId', r.ticketId, 'mode', r.mode, 'home', r.home, 'state', 'waiting', 'requestedAt', r.atText }
      if j == 1 then
        f[#f + 1] = 'lat'
        f[#f + 1] = r.lat
        if skills then
          f[#f + 1] = 'skills'
          f[#f + 1] = skills
        end
      end
      if party then
        f[#f + 1] = 'party'
        f[#f + 1] = party
      end
      local seen = tickets_remembered(pc.seen, pc.ticketId, pc.at, r.at)
      if seen then
        f[#f + 1] = 'seen'
        f[#f + 1] = seen
      end
      u.poolWrites[j] = { key = POOL .. 'Player:' .. pid, existed = pc.existed, fields = f }
      recs[pid] = { ticketId = r.ticketId, state = 'waiting', at = r.at, seen = seen, existed = true }
    end
    r.unit = u
    unit_of(r.playerId, u)
    fresh[#fresh + 1] = i
    freshByMode[r.mode] = freshByMode[r.mode] or {}
    local list = freshByMode[r.mode]
    list[#list + 1] = u
  end
end

local free, taken, plans = {}, {}, {}
local budget = maxPlayers
for mode, list in pairs(freshByMode) do
  local rule = RULES[mode]
  if budget <= 0 then break end
  local function plan_groups(groups)
    for _, g in ipairs(groups) do
      local plan = latency_place_read(mode, rule, g, unit_of)
      if plan then
        plans[#plans + 1] = plan
        budget = budget - #plan.members
      else
        for _, pid in ipairs(g.leaders) do taken[pid] = nil end
      end
    end
  end
  -- Sessions a leaver reopened first (their players waited longest: refilled at intake, not only by the
  -- sweep), then new groups with this batch's units as anchors.
  plan_groups(latency_reopened(mode, rule, taken, unit_of, list))
  if budget > 0 then plan_groups((latency_groups(mode, rule, list, list, free, taken, unit_of, budget))) end
end

-- ---------------------------------------------------------------- writes
-- A new ticket's matched regional tickets are over for matching: out of their sessions, their records left
-- (kept for the retention). First: a group placed in that region rewrites the record after this.
for _, i in ipairs(fresh) do
  for _, m in ipairs(reqs[i].moved) do
    in_region(m[2])
    detach_matched(m[1], m[3])
    redis.call('HSET', P .. 'Player:' .. m[1], 'state', 'left', 'leftReason', 'cancelled', 'leftAt', NOW_TEXT)
    redis.call('PEXPIRE', P .. 'Player:' .. m[1], retentionText)
  end
end
local ready = {}
local sidOf = {}
for _, plan in ipairs(plans) do
  local sid = latency_place_write(plan, retentionText)
  ready[#ready + 1] = { plan.region, sid }
  for _, u in ipairs(plan.units) do sidOf[u.pid] = sid end
end
local waitingPerMode = {}
for _, i in ipairs(fresh) do
  local r = reqs[i]
  local u = r.unit
  local sid = sidOf[r.playerId]
  if sid then
    results[i] = { outcome = 'queued', sessionId = sid, sessionReady = true }
  else
    for _, pw in ipairs(u.poolWrites) do
      if pw.existed then redis.call('DEL', pw.key) end
      redis.call('HSET', pw.key, unpack(pw.fields))
    end
    redis.call('ZADD', POOL .. 'Waiting:' .. r.mode, r.atText, r.playerId)
    for _, region in ipairs(u.order) do redis.call('ZADD', POOL .. 'ByLatency:' .. r.mode .. ':' .. region, int(u.ms[region] or 0), r.playerId) end
    if u.s then redis.call('ZADD', POOL .. 'BySkill:' .. r.mode, string.format('%.17g', u.mid), r.playerId) end
    waitingPerMode[r.mode] = (waitingPerMode[r.mode] or 0) + #u.p
    results[i] = { outcome = 'queued', sessionId = '', sessionReady = false, pooled = true }
  end
end
for mode, n in pairs(waitingPerMode) do redis.call('HINCRBY', POOL .. 'WaitingPerMode', mode, int(n)) end

for i = 1, #results do results[i] = cjson.encode(results[i]) end
return '{"results":[' .. table.concat(results, ',') .. '],"ready":' .. (#ready > 0 and cjson.encode(ready) or '[]') .. '}'
