-- deregisterServer: a server leaves the pool (shutdown). If it was allocated, its session ends (the game
-- is over, as on release). Its token is fenced; the caller then has the global index forget it.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId}
-- Reply     JSON {outcome: "removed", token, address, endedSessionId?} | {outcome: "notFound"}
--- @include "prologue"
--- @include "get_server"
--- @include "end_session"
--- @include "remove_servers"
--- @include "fence_server"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)

local rec = get_server(id)
if not rec then return '{"outcome":"notFound"}' end
local ended = nil
if rec.state == 'allocated' and rec.sessionId then
  ended = rec.sessionId
  end_session(ended)
end
local token = tonumber(rec.token) or 0
remove_servers({ id })
fence_server(id, token)
return cjson.encode({ outcome = 'removed', token = token, address = rec.address, endedSessionId = ended })
