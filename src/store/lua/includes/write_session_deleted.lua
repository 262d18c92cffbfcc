--- @include "ready_count"
-- Writes the deletion of a session whose state and mode the caller has read: the hash, its members and
-- every index entry (SessionsReady with its ReadyPerMode count, SessionsPerMatchmaking, SessionsBySkill, SessionsCreationTime,
-- SessionsAnnouncing). Writes only, for scripts that read everything first and write last.
local function write_session_deleted(sid, mode, state)
  if state == 'ready' then
    redis.call('ZREM', P .. 'SessionsReady', sid)
    ready_count(mode, -1)
  end
  redis.call('DEL', P .. 'Session:' .. sid, P .. 'SessionPlayers:' .. sid)
  if mode then
    redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid)
    redis.call('ZREM', P .. 'SessionsBySkill:' .. mode, sid)
  end
  redis.call('ZREM', P .. 'SessionsCreationTime', sid)
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
end
