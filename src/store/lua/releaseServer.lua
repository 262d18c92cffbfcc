-- releaseServer: a server's game is over: its session ends and the server is available again.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, sessionId?}
-- Reply     JSON {outcome: "released", server, endedSessionId} | {outcome: "alreadyAvailable" | "sessionMismatch", server}
--           | {outcome: "notFound"}
-- Idempotent: releasing an available server answers "alreadyAvailable". With a sessionId, a release meant
-- for an earlier game (stale or redelivered) answers "sessionMismatch" and does not free the server from its
-- current game. The lease is left alone: only heartbeats renew it (the index's lease is the upper bound).
--- @include "prologue"
--- @include "get_server"
--- @include "end_session"
--- @include "save_server"
--- @include "server_view"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
if A.sessionId ~= nil then check_text('sessionId', A.sessionId, '^[a-z0-9][a-z0-9-]*%.%d+$', 48) end

local rec = get_server(id)
if not rec then return '{"outcome":"notFound"}' end
if rec.state ~= 'allocated' then return cjson.encode({ outcome = 'alreadyAvailable', server = server_view(id, rec) }) end
if A.sessionId and A.sessionId ~= rec.sessionId then
  return cjson.encode({ outcome = 'sessionMismatch', server = server_view(id, rec) })
end
local ended = rec.sessionId
end_session(ended)
rec.state = 'available'
rec.sessionId = nil
rec.claimExpiresAt = nil
rec.confirmedAt = nil
rec.gamesServed = (tonumber(rec.gamesServed) or 0) + 1
redis.call('ZREM', P .. 'ServerClaims', id)
save_server(id, rec, true)
return cjson.encode({ outcome = 'released', server = server_view(id, rec), endedSessionId = ended })
