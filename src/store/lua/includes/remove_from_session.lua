--- @include "delete_session"
--- @include "ready_count"
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
