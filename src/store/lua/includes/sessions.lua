--- @include "base"
-- Session bookkeeping shared by the scripts that add, remove and requeue players.
-- Session:<id> hash: mode, capacity, size, state (open|ready|assigned), seq, createdAt, region,
-- and once assigned: server, address, assignedAt, assignment (the frozen match-made payload, JSON).

-- ReadyPerMode hash: mode -> sessions of that mode in SessionsReady. assignSessions reports it (the
-- scale-out signal) on every call; counting it here instead of looking up the mode of every ready session
-- keeps that report O(modes) instead of O(backlog). Every script that adds a session to SessionsReady or
-- removes one from it adjusts the count in the same step (here by what ZADD/ZREM report; enqueuePlayers and
-- assignSessions by the sessions they move themselves), so it is always exact (checkInvariants checks it).
local function ready_count(mode, n)
  redis.call('HINCRBY', P .. 'ReadyPerMode', mode, n)
end

local function delete_session(sid, mode)
  if redis.call('ZREM', P .. 'SessionsReady', sid) == 1 then
    local m = mode or redis.call('HGET', P .. 'Session:' .. sid, 'mode')
    if m then ready_count(m, -1) end
  end
  redis.call('DEL', P .. 'Session:' .. sid, P .. 'SessionPlayers:' .. sid)
  if mode then redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid) end
  redis.call('ZREM', P .. 'SessionsCreationTime', sid)
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
end

-- Frees pid's slot in an open or ready session. A ready session goes back to open under its original
-- sequence number (so it is again exactly as old as it was among the open sessions of its mode);
-- an emptied session is deleted. Returns true when the session was deleted.
local function remove_from_session(sid, pid)
  local skey = P .. 'Session:' .. sid
  if redis.call('SREM', P .. 'SessionPlayers:' .. sid, pid) == 0 then return false end
  local s = redis.call('HMGET', skey, 'mode', 'state', 'seq')
  local size = redis.call('HINCRBY', skey, 'size', -1)
  if size <= 0 then
    delete_session(sid, s[1])
    return true
  end
  if s[2] == 'ready' then
    redis.call('HSET', skey, 'state', 'open')
    if redis.call('ZREM', P .. 'SessionsReady', sid) == 1 then ready_count(s[1], -1) end
    redis.call('ZADD', P .. 'SessionsPerMatchmaking:' .. s[1], s[3], sid)
  end
  return false
end

-- A matched player moves on (new ticket, or a preempting leave): it stops being a member of its assigned
-- session, so no player is ever a member of two sessions. The frozen assignment payload is unchanged;
-- if that server later expires, the session is requeued without this player.
local function detach_matched(pid, state, sid)
  if state ~= 'matched' or not sid then return end
  if redis.call('SREM', P .. 'SessionPlayers:' .. sid, pid) == 1 then
    redis.call('HINCRBY', P .. 'Session:' .. sid, 'size', -1)
  end
end

-- Marks a waiting player as left and frees its slot. The caller has checked that state == waiting.
-- The record is kept for the ticket retention so the ticket endpoint and redeliveries see the outcome.
local function player_leave(pid, p, reason, retention)
  local pkey = P .. 'Player:' .. pid
  local deleted = false
  if p.session then deleted = remove_from_session(p.session, pid) end
  redis.call('HSET', pkey, 'state', 'left', 'leftReason', reason, 'leftAt', NOW)
  redis.call('HDEL', pkey, 'session')
  redis.call('PEXPIRE', pkey, retention)
  redis.call('ZREM', P .. 'PlayersTimeStartedMatchmaking', pid)
  if p.mode and p.mode ~= '' then redis.call('HINCRBY', P .. 'WaitingPerMode', p.mode, -1) end
  return deleted
end

-- The match-made payload of a session given a server, as assignSessions stores it on the session
-- (`assignment`, JSON) and the store reads it back as an Assignment.
local function assignment_payload(sid, serverId, address, players, mode, assignedAt)
  return { sessionId = sid, serverId = serverId, address = address, players = players, mode = mode,
    region = REGION, assignedAt = assignedAt }
end

-- The assignment of an assigned session (as given out by assignSessions), or nil.
local function session_assignment(sid)
  local a = redis.call('HGET', P .. 'Session:' .. sid, 'assignment')
  if not a then return nil end
  return cjson.decode(a)
end

-- The assignment a matched player was given, also after its session ended (server released): then
-- it is rebuilt from the player's own record, with the player alone in `players`.
local function player_assignment(pid, p)
  local a = p.session and session_assignment(p.session)
  if a then return a end
  return assignment_payload(p.session or '', p.server or '', p.address or '',
    { { playerId = pid, ticketId = p.ticketId } }, p.mode or '', tonumber(p.assignedAt) or 0)
end
