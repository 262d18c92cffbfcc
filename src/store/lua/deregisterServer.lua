-- deregisterServer: a server leaves the pool (shutdown); if it was allocated, its session ends.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId}
-- Reply     JSON {outcome: "removed", endedSessionId?} | {outcome: "notFound"}
--- @include "prologue"
--- @include "get_server"
--- @include "end_session"
--- @include "remove_servers"

check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
local rec = get_server(A.serverId)
if not rec then return cjson.encode({ outcome = 'notFound' }) end
local ended = nil
if rec.state == 'allocated' and rec.sessionId then
  ended = rec.sessionId
  end_session(ended)
end
remove_servers({ A.serverId })
return cjson.encode({ outcome = 'removed', endedSessionId = ended })
