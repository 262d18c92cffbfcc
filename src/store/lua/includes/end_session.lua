--- @include "delete_session"
-- The game of an allocated server is over: its session is deleted. Its players keep their matched
-- records (with server and address) until the ticket retention ends.
local function end_session(sid)
  local mode = redis.call('HGET', P .. 'Session:' .. sid, 'mode')
  delete_session(sid, mode or nil)
end
