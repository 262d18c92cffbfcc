-- A server and, while allocated, the session and players it got.
-- ARGV[2]: {now, region, serverId}
--- @include "servers"

local rec = get_server(A.serverId)
if not rec then return cjson.encode({ found = false }) end
local out = { found = true, server = server_view(A.serverId, rec) }
if rec.state == 'allocated' and rec.sessionId then out.assignment = session_assignment(rec.sessionId) end
return cjson.encode(out)
