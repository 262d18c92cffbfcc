--- @include "delete_session"
--- @include "ready_count"
--- @include "rules_session_derive"
--- @include "rules_session_score"
--- @include "rules_session_fields"
--- @include "rules_units_keep"
--- @include "skill_band"
--- @include "session_members"
--- @include "member_value"
-- The server of a session died before confirming its claim: the session goes back to the FRONT of the
-- ready queue - same sessionId, same players - so the next free server takes the same group and a new
-- match-made is published for it. Its players are "waiting" again (their records were never changed: they
-- read waiting as soon as the session is ready or open again) with FRESH deadlines: their wait starts
-- now (the member fields' wait start, SessionsWaitingSince; `requeuedAt` on the session), and
-- SessionsCreationTime re-scored to now, so the stale sweeper gives the group a whole new allowance instead of expiring it at once (their
-- original request may be older than the allowance by the time a server dies). The session leaves the
-- outbox and Match:<sid> is deleted (the next assignment writes a new one).
-- A member whose record no longer points here (should not happen: moving on detaches) is dropped from the
-- group; if that leaves the session short it becomes open again (original seq), if empty it is deleted.
-- Returns whether the session was requeued (ready or open; false when deleted or missing) and how many
-- players it touched.
local function requeue_session(sid)
  local skey = P .. 'Session:' .. sid
  local members, ticketOf, s = session_members(redis.call('HGETALL', skey))
  if not s.mode then return false, 0 end
  local mode, capacity, seq = s.mode, tonumber(s.capacity), tonumber(s.seq)
  -- A rules session keeps its units (parties, teams, skills): the players who moved on leave them.
  local rs = s.units and { units = cjson.decode(s.units) } or nil
  local skillOf, requeued, dropped, size = {}, {}, false, 0
  if rs then
    for _, u in ipairs(rs.units) do
      for j, pid in ipairs(u.p) do skillOf[pid] = u.s and u.s[j] end
    end
  end
  for _, pid in ipairs(members) do
    local p = redis.call('HMGET', P .. 'Player:' .. pid, 'state', 'session', 'ticketId')
    if (not p[1] or p[1] == 'waiting') and p[2] == sid and p[3] == ticketOf[pid] then
      redis.call('HSET', skey, '@' .. pid, member_value(ticketOf[pid], NOW_TEXT))
      redis.call('HINCRBY', P .. 'WaitingPerMode', mode, 1)
      if skillOf[pid] then redis.call('HINCRBY', P .. 'SkillBands:' .. mode, skill_band(skillOf[pid]), 1) end
      requeued[pid] = true
      size = size + 1
    else
      redis.call('HDEL', skey, '@' .. pid)
      dropped = true
    end
  end
  -- The units keep exactly the requeued players (also none of those detached earlier by a new ticket).
  local unitCount = 0
  if rs then
    for _, u in ipairs(rs.units) do unitCount = unitCount + #u.p end
  end
  if rs and (dropped or unitCount ~= #members) then
    local kept = rules_units_keep(rs.units, function(pid) return requeued[pid] end)
    rs.units = kept
    if #kept > 0 then
      rules_session_derive(rs)
      redis.call('HSET', skey, unpack(rules_session_fields(rs, {})))
    end
    -- A party that lost members requeues as the rest of it (their records name the party as it is now).
    for _, u in ipairs(kept) do
      for _, pid in ipairs(u.p) do
        if #u.p > 1 then redis.call('HSET', P .. 'Player:' .. pid, 'party', table.concat(u.p, ',')) else redis.call('HDEL', P .. 'Player:' .. pid, 'party') end
      end
    end
  end
  redis.call('HDEL', skey, 'server', 'address', 'assignedAt', 'retainMs')
  redis.call('DEL', P .. 'Match:' .. sid)
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
  if size == 0 then
    delete_session(sid, mode)
    return false, #members
  end
  redis.call('HSET', skey, 'size', size, 'requeuedAt', NOW_TEXT)
  redis.call('ZADD', P .. 'SessionsCreationTime', NOW_TEXT, sid)
  redis.call('ZADD', P .. 'SessionsWaitingSince', NOW_TEXT, sid)
  if size >= capacity then
    -- Front of the queue: below the lowest score present (assign takes the lowest first).
    local first = redis.call('ZRANGE', P .. 'SessionsReady', 0, 0, 'WITHSCORES')
    local score = seq
    if #first == 2 and tonumber(first[2]) <= score then score = tonumber(first[2]) - 1 end
    redis.call('HSET', skey, 'state', 'ready')
    if redis.call('ZADD', P .. 'SessionsReady', score, sid) == 1 then ready_count(mode, 1) end
  else
    redis.call('HSET', skey, 'state', 'open')
    redis.call('ZADD', P .. 'SessionsPerMatchmaking:' .. mode, seq, sid)
    if rs then
      redis.call('HDEL', skey, 'teams', 'quality')
      rules_session_derive(rs)
      if rs.smin ~= nil then redis.call('ZADD', P .. 'SessionsBySkill:' .. mode, rules_session_score(rs), sid) end
    end
  end
  return true, #members
end
