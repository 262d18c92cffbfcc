-- A server's game is over: its session ends and the server is available again. Idempotent: releasing
-- an available server answers "alreadyAvailable". With a sessionId, a release meant for an earlier game
-- (stale or redelivered) answers "sessionMismatch" and does not free the server from its current game.
-- A release is a sign of life: the lease is renewed.
-- ARGV[2]: {now, region, serverId, sessionId?, leaseMs}
--- @include "servers"

local id = A.serverId
local rec = get_server(id)
if not rec then return cjson.encode({ outcome = 'notFound' }) end
if rec.state ~= 'allocated' then return cjson.encode({ outcome = 'alreadyAvailable', server = server_view(id, rec) }) end
if A.sessionId and A.sessionId ~= rec.sessionId then
  return cjson.encode({ outcome = 'sessionMismatch', server = server_view(id, rec) })
end
local ended = rec.sessionId
end_session(ended)
rec.state = 'available'
rec.sessionId = nil
rec.gamesServed = (tonumber(rec.gamesServed) or 0) + 1
rec.lastHeartbeat = NOW
rec.leaseExpiresAt = NOW + tonumber(A.leaseMs)
save_server(id, rec, true)
return cjson.encode({ outcome = 'released', server = server_view(id, rec), endedSessionId = ended })
