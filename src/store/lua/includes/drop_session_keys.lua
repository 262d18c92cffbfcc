-- Removes a session's hash (with its members, the `@` fields) and its entries in every index but
-- SessionsReady (whose ReadyPerMode count needs the caller's knowledge of the state):
-- SessionsPerMatchmaking and SessionsBySkill of `mode` (when given), SessionsCreationTime,
-- SessionsWaitingSince, SessionsAnnouncing. Writes only.
local function drop_session_keys(sid, mode)
  redis.call('DEL', P .. 'Session:' .. sid)
  if mode then
    redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid)
    redis.call('ZREM', P .. 'SessionsBySkill:' .. mode, sid)
  end
  redis.call('ZREM', P .. 'SessionsCreationTime', sid)
  redis.call('ZREM', P .. 'SessionsWaitingSince', sid)
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
end
