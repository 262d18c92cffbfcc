--- @include "delete_session"
--- @include "ready_count"
-- The server of a session died before confirming its claim: the session goes back to the FRONT of the
-- ready queue - same sessionId, same players - so the next free server takes the same group and a new
-- match-made is published for it. Its players are "waiting" again with FRESH deadlines: re-added to
-- PlayersTimeStartedMatchmaking at now (`requeuedAt` on the record), and SessionsCreationTime re-scored
-- to now, so the stale sweeper gives the group a whole new allowance instead of expiring it at once (their
-- original request may be older than the allowance by the time a server dies). The session leaves the outbox.
-- A player who has moved on since the match (a newer ticket, or the record expired) is dropped from the
-- group; if that leaves the session short it becomes open again (original seq), if empty it is deleted.
-- Returns whether the session was requeued (ready or open; false when deleted or missing) and how many
-- players it touched.
local function requeue_session(sid)
  local skey = P .. 'Session:' .. sid
  local s = redis.call('HMGET', skey, 'mode', 'capacity', 'seq')
  if not s[1] then return false, 0 end
  local mode, capacity, seq = s[1], tonumber(s[2]), tonumber(s[3])
  local spkey = P .. 'SessionPlayers:' .. sid
  local members = redis.call('SMEMBERS', spkey)
  for _, pid in ipairs(members) do
    local pkey = P .. 'Player:' .. pid
    local p = redis.call('HMGET', pkey, 'state', 'session')
    if p[1] == 'matched' and p[2] == sid then
      redis.call('HSET', pkey, 'state', 'waiting', 'requeuedAt', NOW_TEXT)
      redis.call('HDEL', pkey, 'server', 'address', 'assignedAt')
      redis.call('PERSIST', pkey)
      redis.call('ZADD', P .. 'PlayersTimeStartedMatchmaking', NOW_TEXT, pid)
      redis.call('HINCRBY', P .. 'WaitingPerMode', mode, 1)
    else
      redis.call('SREM', spkey, pid)
    end
  end
  local size = redis.call('SCARD', spkey)
  redis.call('HDEL', skey, 'server', 'address', 'assignedAt', 'assignment')
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
  if size == 0 then
    delete_session(sid, mode)
    return false, #members
  end
  redis.call('HSET', skey, 'size', size)
  redis.call('ZADD', P .. 'SessionsCreationTime', NOW_TEXT, sid)
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
  end
  return true, #members
end
