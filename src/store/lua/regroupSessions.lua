-- regroupSessions: open sessions of a rules mode that cannot fill are completed from others under the window in force now.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, mode, rules (the mode's rules as enqueuePlayers takes them), afterSeq,
--           maxTargets (open sessions examined), maxPlayers (players moved)}
-- Reply     JSON {merged: [sessionIds emptied and deleted], ready: [sessionIds filled], moved, more, cursor}
--           more = true: stopped by a budget (call again with afterSeq = cursor)
-- A session's skill window widens with the wait of its longest-waiting ticket, but a unit joins a session
-- only when it enqueues: without this sweep, two half-full sessions that fit together under the widened
-- window would wait side by side until they time out, and team packing can strand slots (two parties of
-- 3 in a 5v5 leave room for 4, but not for a third party of 3). Targets are the open sessions of the mode
-- in seq order (oldest first), after `afterSeq`; for each, units (whole parties, never split) of the
-- candidate sessions nearest in skill (or oldest, without skill; includes/rules_candidates.lua) are taken,
-- oldest ticket first, as long as they fit (room, team packing, spread within the window in force for the
-- joined group's longest wait). Only when that fills the target are the moves made: the target becomes
-- ready (teams balanced, quality recorded), donors shrink, an emptied donor is deleted ("merged").
-- Compute first, write last.
--- @include "prologue"
--- @include "call_chunked"
--- @include "mode_rules"
--- @include "ready_count"
--- @include "write_session_deleted"
--- @include "rules_candidates"
--- @include "rules_session_derive"
--- @include "rules_session_score"
--- @include "rules_unit_fits"
--- @include "rules_session_add"
--- @include "rules_session_fill"
--- @include "rules_session_fields"
--- @include "session_members"
--- @include "waiting_since"

local mode = check_text('mode', A.mode, '^[a-z0-9][a-z0-9_-]*$', 32)
local rule = mode_rules({ [mode] = A.rules })[mode]
local afterSeq = check_int('afterSeq', A.afterSeq, 0, 2 ^ 53)
local maxTargets = check_int('maxTargets', A.maxTargets, 1, 1000)
local maxPlayers = check_int('maxPlayers', A.maxPlayers, 1, 100000)

-- ---------------------------------------------------------------- reads and decisions
local cache, cached, changedOrder = {}, {}, {}
local function index_score(s)
  if rule.skill then return rules_session_score(s) end
  return s.seq
end
local function load(sid)
  local s = cache[sid]
  if s then return s end
  local h = redis.call('HMGET', P .. 'Session:' .. sid, 'mode', 'capacity', 'state', 'seq', 'units')
  if h[1] ~= mode or not h[5] then return nil end
  s = { sid = sid, mode = h[1], capacity = tonumber(h[2]), state = h[3], seq = tonumber(h[4]), units = cjson.decode(h[5]), added = {}, addedValues = {},
    removed = {} }
  s.size = rules_session_derive(s)
  s.indexScore = index_score(s)
  return s
end
local function changed(s)
  if cache[s.sid] then return end
  cache[s.sid] = s
  cached[#cached + 1] = s.sid
  changedOrder[#changedOrder + 1] = s.sid
end
local function copy_unit(u)
  return { p = u.p, s = u.s, at = u.at, t = u.t }
end
local function unit_range(u)
  if not u.s then return 0, 0 end
  local lo, hi = u.s[1], u.s[1]
  for _, v in ipairs(u.s) do
    if v < lo then lo = v end
    if v > hi then hi = v end
  end
  return lo, hi
end

local targets = redis.call('ZRANGEBYSCORE', P .. 'SessionsPerMatchmaking:' .. mode, '(' .. int(afterSeq), '+inf', 'WITHSCORES', 'LIMIT', '0', int(maxTargets))
local merged, ready, moved, cursor, more = {}, {}, 0, afterSeq, #targets / 2 >= maxTargets
local moves = {}   -- {pid, sid}: records whose session changes
local qualities = {}
for i = 1, #targets, 2 do
  if moved >= maxPlayers then
    more = true
    break
  end
  local tsid = targets[i]
  cursor = tonumber(targets[i + 1])
  local t = load(tsid)
  if t and t.state == 'open' and t.size > 0 then
    -- The plan: the target's units and the units taken so far (copies: nothing changes unless it fills).
    local plan = { sid = t.sid, capacity = t.capacity, units = {}, size = 0 }
    for k, u in ipairs(t.units) do plan.units[k] = copy_unit(u) end
    plan.size = rules_session_derive(plan)
    local offers = {}
    for _, dsid in ipairs(rules_candidates(mode, rule, index_score(t), cache, cached)) do
      local d = dsid ~= tsid and load(dsid)
      if d and d.state == 'open' and d.size > 0 then
        for k, u in ipairs(d.units) do offers[#offers + 1] = { d = d, k = k, u = u } end
      end
    end
    table.sort(offers, function(x, y)
      if x.u.at ~= y.u.at then return x.u.at < y.u.at end
      if x.d.seq ~= y.d.seq then return x.d.seq < y.d.seq end
      return x.k < y.k
    end)
    local taken = {}
    for _, o in ipairs(offers) do
      if plan.size >= plan.capacity then break end
      local lo, hi = unit_range(o.u)
      local cu = copy_unit(o.u)
      local placed = rules_unit_fits(rule, plan, cu, lo, hi)
      if placed then
        rules_session_add(plan, cu, placed)
        taken[#taken + 1] = o
      end
    end
    if plan.size >= plan.capacity then
      changed(t)
      t.units = plan.units
      t.size = rules_session_derive(t)
      t.state = 'ready'
      rules_session_fill(rule, t)
      t.indexScore = index_score(t)
      ready[#ready + 1] = tsid
      qualities[#qualities + 1] = cjson.encode({ t.quality.skillSpread, t.quality.teamSkillGap, t.quality.waitSeconds })
      local gone = {}
      for _, o in ipairs(taken) do
        changed(o.d)
        gone[o.u] = true
        -- The members move with their member field ("<ticketId> <waitStart>": a unit has one ticket and
        -- one wait start, the leader's).
        local ticket = redis.call('HGET', P .. 'Session:' .. o.d.sid, '@' .. o.u.p[1])
        for _, pid in ipairs(o.u.p) do
          t.added[#t.added + 1] = pid
          t.addedValues[#t.added] = ticket
          o.d.removed[#o.d.removed + 1] = pid
          moves[#moves + 1] = pid
          moved = moved + 1
        end
      end
      for _, o in ipairs(taken) do
        local d = o.d
        if not d.pruned then
          d.pruned = true
          local kept = {}
          for _, u in ipairs(d.units) do
            if not gone[u] then kept[#kept + 1] = u end
          end
          d.units = kept
        end
      end
      for _, o in ipairs(taken) do
        local d = o.d
        d.pruned = nil
        d.size = rules_session_derive(d)
        d.indexScore = index_score(d)
        if d.size == 0 and d.state ~= 'deleted' then
          d.state = 'deleted'
          merged[#merged + 1] = d.sid
        end
      end
    end
  end
end

-- The SessionsWaitingSince score of every session that changed: its earliest member after the moves.
local waitingScores = {}
for _, sid in ipairs(changedOrder) do
  local s = cache[sid]
  if s.state ~= 'deleted' then
    local _, _, _, waits = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
    local gone, extra = {}, {}
    for _, pid in ipairs(s.removed) do gone[pid] = true end
    for k = 1, #s.added do extra[k] = tonumber(string.match(s.addedValues[k] or '', ' (%d+)$')) or NOW end
    waitingScores[sid] = int(waiting_since(waits, function(pid) return not gone[pid] end, extra) or NOW)
  end
end

-- ---------------------------------------------------------------- writes
local readyPairs, readyN = {}, 0
for _, sid in ipairs(changedOrder) do
  local s = cache[sid]
  local skey = P .. 'Session:' .. sid
  if s.state == 'deleted' then
    write_session_deleted(sid, mode, 'open')
  else
    local gone = {}
    for k, pid in ipairs(s.removed) do gone[k] = '@' .. pid end
    call_chunked('HDEL', skey, gone)
    local fields = rules_session_fields(s, { 'size', int(s.size), 'state', s.state })
    for k, pid in ipairs(s.added) do
      fields[#fields + 1] = '@' .. pid
      fields[#fields + 1] = s.addedValues[k]
    end
    if s.state == 'ready' then
      fields[#fields + 1] = 'teams'
      fields[#fields + 1] = cjson.encode(s.teams)
      fields[#fields + 1] = 'quality'
      fields[#fields + 1] = cjson.encode(s.quality)
      redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid)
      redis.call('ZREM', P .. 'SessionsBySkill:' .. mode, sid)
      readyPairs[#readyPairs + 1] = int(s.seq)
      readyPairs[#readyPairs + 1] = sid
      readyN = readyN + 1
    elseif rule.skill then
      redis.call('ZADD', P .. 'SessionsBySkill:' .. mode, s.indexScore, sid)
    end
    redis.call('HSET', skey, unpack(fields))
    redis.call('ZADD', P .. 'SessionsWaitingSince', waitingScores[sid], sid)
  end
end
for _, sid in ipairs(ready) do
  for _, pid in ipairs(cache[sid].added) do redis.call('HSET', P .. 'Player:' .. pid, 'session', sid) end
end
call_chunked('ZADD', P .. 'SessionsReady', readyPairs)
if readyN > 0 then ready_count(mode, int(readyN)) end
if #qualities > 0 then
  call_chunked('LPUSH', P .. 'MatchQuality:' .. mode, qualities)
  redis.call('LTRIM', P .. 'MatchQuality:' .. mode, 0, 999)
end

return cjson.encode({ merged = merged, ready = ready, moved = moved, more = more, cursor = cursor })
