-- ackServer: a server confirms the session it was claimed for (POST /api/servers/{serverId}/ack), within
-- the claim window. From then on its death ends the game for its players (serverLost) instead of
-- requeueing them. Not a heartbeat: the lease is renewed by heartbeats only.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, sessionId?}
-- Reply     JSON {outcome: "confirmed" | "alreadyConfirmed", server, sessionId}
--           | {outcome: "notAllocated" | "sessionMismatch", server} | {outcome: "notFound"}
--- @include "prologue"
--- @include "get_server"
--- @include "save_server"
--- @include "server_view"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
if A.sessionId ~= nil then check_text('sessionId', A.sessionId, '^[a-z0-9][a-z0-9-]*%.%d+$', 48) end

local rec = get_server(id)
if not rec then return '{"outcome":"notFound"}' end
if rec.state ~= 'allocated' or not rec.sessionId then
  return cjson.encode({ outcome = 'notAllocated', server = server_view(id, rec) })
end
if A.sessionId and A.sessionId ~= rec.sessionId then
  return cjson.encode({ outcome = 'sessionMismatch', server = server_view(id, rec) })
end
if rec.confirmedAt then
  return cjson.encode({ outcome = 'alreadyConfirmed', server = server_view(id, rec), sessionId = rec.sessionId })
end
rec.confirmedAt = NOW
rec.claimExpiresAt = nil
redis.call('ZREM', P .. 'ServerClaims', id)
save_server(id, rec, false)
return cjson.encode({ outcome = 'confirmed', server = server_view(id, rec), sessionId = rec.sessionId })
