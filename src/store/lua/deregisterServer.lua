-- A server leaves the pool (shutdown). If it was allocated, its session ends (the game is over).
-- ARGV[2]: {now, region, serverId}
--- @include "servers"

local rec = get_server(A.serverId)
if not rec then return cjson.encode({ outcome = 'notFound' }) end
local ended = nil
if rec.state == 'allocated' and rec.sessionId then
  ended = rec.sessionId
  end_session(ended)
end
remove_servers({ A.serverId })
return cjson.encode({ outcome = 'removed', endedSessionId = ended })
