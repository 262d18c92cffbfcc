--- @include "ready_count"
--- @include "drop_session_keys"
-- Writes the deletion of a session whose state and mode the caller has read: the hash, its members and
-- every index entry (SessionsReady with its ReadyPerMode count, and drop_session_keys' indexes). Writes
-- only, for scripts that read everything first and write last.
local function write_session_deleted(sid, mode, state)
  if state == 'ready' then
    redis.call('ZREM', P .. 'SessionsReady', sid)
    ready_count(mode, -1)
  end
  drop_session_keys(sid, mode)
end
