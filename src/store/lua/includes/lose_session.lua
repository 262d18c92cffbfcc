--- @include "delete_session"
-- The server of a confirmed game died: the game is over and the session is deleted. Its players keep
-- their matched records (server, address, until the ticket retention ends), marked `lostAt`: the ticket
-- endpoint shows status serverLost. They are not queued again: they were playing, and whether to play on
-- is theirs to decide (a new ticket). Returns how many players it touched (the caller's work budget).
local function lose_session(sid)
  local members = redis.call('SMEMBERS', P .. 'SessionPlayers:' .. sid)
  for _, pid in ipairs(members) do
    local pkey = P .. 'Player:' .. pid
    local p = redis.call('HMGET', pkey, 'state', 'session')
    if p[1] == 'matched' and p[2] == sid then redis.call('HSET', pkey, 'lostAt', NOW_TEXT) end
  end
  local mode = redis.call('HGET', P .. 'Session:' .. sid, 'mode')
  delete_session(sid, mode or nil)
  return #members
end
