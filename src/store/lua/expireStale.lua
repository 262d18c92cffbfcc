-- expireStale: players and open/ready sessions older than their max age leave with reason "expired".
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, playerMaxAgeMs, sessionMaxAgeMs, max (players per call)}
-- Reply     JSON {players: [{playerId, ticketId}], sessions: [sessionId], more}
--           more = true: the budget was used up before everything stale was handled (call again)
-- The safety net for lost orchestrators: waiting players whose wait started more than playerMaxAgeMs ago
-- (found through SessionsWaitingSince: the sessions whose earliest member waits that long, then their
-- members' wait starts) and open/ready sessions older than sessionMaxAgeMs (SessionsCreationTime) leave. At most `max` players per call (an expired session counts its members), so the call stays short;
-- the caller loops while `more`.
-- All reads and computations come first, all writes last: a failure can only happen before the first
-- write. What the players' leaves do to their sessions is computed per session (several players of one
-- session may expire in one call): the slots are freed, a ready session goes back to open under its
-- original seq, an emptied one is deleted - exactly what one leave after another would leave behind.
--- @include "prologue"
--- @include "call_chunked"
--- @include "write_session_deleted"
--- @include "ready_count"
--- @include "rules_session_derive"
--- @include "rules_session_score"
--- @include "rules_session_fields"
--- @include "rules_units_keep"
--- @include "count_band"
--- @include "player_state"
--- @include "session_members"
--- @include "waiting_since"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local budget = check_int('max', A.max, 1, 1000)
local playerMaxAge = check_int('playerMaxAgeMs', A.playerMaxAgeMs, 0, 2 ^ 40)
local sessionMaxAge = check_int('sessionMaxAgeMs', A.sessionMaxAgeMs, 0, 2 ^ 40)

-- ---------------------------------------------------------------- reads and computations
local order, seen = {}, {}        -- players to handle, in order; pid -> {state, session, mode, ticketId, skill}
-- A party leaves whole: reading a party member reads the others of its ticket too (a unit may make a call
-- go a few players over its budget, never split).
local function read_player(pid, ticketId)
  if seen[pid] then return end
  local p = redis.call('HMGET', P .. 'Player:' .. pid, 'state', 'session', 'mode', 'ticketId', 'party', 'skill')
  if ticketId and p[4] ~= ticketId then return end
  local r = { state = p[1] or nil, session = p[2] or nil, mode = p[3], ticketId = p[4], skill = tonumber(p[6]) }
  r.state = player_state(r)
  seen[pid] = r
  order[#order + 1] = pid
  if p[5] and r.state == 'waiting' then
    for m in string.gmatch(p[5], '[^,]+') do read_player(m, p[4]) end
  end
end

local cutoff = NOW - playerMaxAge
local strayWaiting, rescore = {}, {}   -- index entries of sessions no longer open/ready; scores to put right
local oldWaiting = redis.call('ZRANGEBYSCORE', P .. 'SessionsWaitingSince', '-inf', cutoff, 'LIMIT', 0, budget)
local more = #oldWaiting == budget
for _, sid in ipairs(oldWaiting) do
  if #order >= budget then
    more = true
    break
  end
  local members, _, h, waits = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
  if h.state ~= 'open' and h.state ~= 'ready' then
    strayWaiting[#strayWaiting + 1] = sid
  else
    local any = false
    for _, pid in ipairs(members) do
      if waits[pid] and waits[pid] <= cutoff then
        if #order >= budget then
          more = true
          break
        end
        read_player(pid)
        any = true
      end
    end
    if not any then
      -- Its score is older than any member's wait (should not happen): put it right.
      local since = waiting_since(waits)
      if since then rescore[sid] = since else strayWaiting[#strayWaiting + 1] = sid end
    end
  end
end

-- Old sessions: all their members expire and the session is deleted.
local sessionsExpired, expireAll, dropCreation = {}, {}, {}
if not more then
  local oldSessions = redis.call('ZRANGEBYSCORE', P .. 'SessionsCreationTime', '-inf', NOW - sessionMaxAge, 'LIMIT', 0, budget)
  for _, sid in ipairs(oldSessions) do
    local state = redis.call('HGET', P .. 'Session:' .. sid, 'state')
    if state == 'open' or state == 'ready' then
      local members = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
      if #order > 0 and #order + #members > budget then
        more = true
        break
      end
      for _, pid in ipairs(members) do read_player(pid) end
      expireAll[sid] = true
      sessionsExpired[#sessionsExpired + 1] = sid
    else
      dropCreation[#dropCreation + 1] = sid
    end
  end
end

-- Who leaves, and what that does to each session touched.
local leaving, expiredPlayers, waitingDelta = {}, {}, {}
local touched, touchedOrder = {}, {}   -- sid -> {leavers = {pid...}}
for _, pid in ipairs(order) do
  local p = seen[pid]
  if p.state == 'waiting' then
    leaving[#leaving + 1] = pid
    expiredPlayers[#expiredPlayers + 1] = { playerId = pid, ticketId = p.ticketId }
    if p.mode and p.mode ~= '' then waitingDelta[p.mode] = (waitingDelta[p.mode] or 0) - 1 end
    if p.session then
      local t = touched[p.session]
      if not t then
        t = { leavers = {} }
        touched[p.session] = t
        touchedOrder[#touchedOrder + 1] = p.session
      end
      t.leavers[#t.leavers + 1] = pid
    end
  end
end
local sessionsDeleted = {}
local bandDelta = {}
for _, sid in ipairs(touchedOrder) do
  local t = touched[sid]
  local _, _, h, waits = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
  t.mode, t.state, t.seq = h.mode, h.state, h.seq
  if h.units then t.units = cjson.decode(h.units) end
  -- Only real members free a slot (a record pointing at a session it is not in changes nothing there).
  t.removed, t.removedFields = {}, {}
  local gone = {}
  for _, pid in ipairs(t.leavers) do
    if waits[pid] then
      t.removed[#t.removed + 1] = pid
      t.removedFields[#t.removedFields + 1] = '@' .. pid
      gone[pid] = true
    end
  end
  t.waitingSince = waiting_since(waits, function(pid) return not gone[pid] end)
  t.size = (tonumber(h.size) or 0) - #t.removed
  if t.units and #t.removed > 0 then
    -- The units without the leavers; skill bands of skill modes lose them.
    t.units = rules_units_keep(t.units, function(pid) return not gone[pid] end, function(_, skill)
      if skill then count_band(bandDelta, t.mode, skill, -1) end
    end)
    rules_session_derive(t)
  end
  if expireAll[sid] then
    t.fate = 'deleted'
  elseif #t.removed == 0 or not t.state then
    t.fate = 'unchanged'
  elseif t.size <= 0 then
    t.fate = 'deleted'
    sessionsDeleted[#sessionsDeleted + 1] = sid
  elseif t.state == 'ready' then
    t.fate = 'reopened'
  else
    t.fate = 'shrunk'
  end
end
-- An old session none of whose members was waiting (inconsistent) is deleted all the same.
local oldSessionState = {}
for _, sid in ipairs(sessionsExpired) do
  if not touched[sid] then oldSessionState[sid] = redis.call('HMGET', P .. 'Session:' .. sid, 'mode', 'state') end
end

-- ---------------------------------------------------------------- writes
for _, pid in ipairs(leaving) do
  local pkey = P .. 'Player:' .. pid
  redis.call('HSET', pkey, 'state', 'left', 'leftReason', 'expired', 'leftAt', NOW_TEXT)
  redis.call('HDEL', pkey, 'session')
  redis.call('PEXPIRE', pkey, retentionText)
end
call_chunked('ZREM', P .. 'SessionsWaitingSince', strayWaiting)
for sid, score in pairs(rescore) do redis.call('ZADD', P .. 'SessionsWaitingSince', int(score), sid) end
for mode, n in pairs(waitingDelta) do redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n)) end
for mode, b in pairs(bandDelta) do
  for band, n in pairs(b) do redis.call('HINCRBY', P .. 'SkillBands:' .. mode, band, int(n)) end
end
for _, sid in ipairs(touchedOrder) do
  local t = touched[sid]
  if t.fate == 'deleted' then
    write_session_deleted(sid, t.mode, t.state)
  elseif t.fate ~= 'unchanged' then
    local skey = P .. 'Session:' .. sid
    call_chunked('HDEL', skey, t.removedFields)
    if t.fate == 'reopened' then
      redis.call('HSET', skey, 'size', int(t.size), 'state', 'open')
      redis.call('ZREM', P .. 'SessionsReady', sid)
      ready_count(t.mode, -1)
      redis.call('ZADD', P .. 'SessionsPerMatchmaking:' .. t.mode, t.seq, sid)
      if t.units then redis.call('HDEL', skey, 'teams', 'quality') end
    else
      redis.call('HSET', skey, 'size', int(t.size))
    end
    redis.call('ZADD', P .. 'SessionsWaitingSince', int(t.waitingSince), sid)
    if t.units then
      redis.call('HSET', skey, unpack(rules_session_fields(t, {})))
      if t.smin ~= nil then redis.call('ZADD', P .. 'SessionsBySkill:' .. t.mode, rules_session_score(t), sid) end
    end
  end
end
for sid, h in pairs(oldSessionState) do write_session_deleted(sid, h[1], h[2]) end
call_chunked('ZREM', P .. 'SessionsCreationTime', dropCreation)

for _, sid in ipairs(sessionsExpired) do sessionsDeleted[#sessionsDeleted + 1] = sid end
return cjson.encode({ players = expiredPlayers, sessions = sessionsDeleted, more = more })
