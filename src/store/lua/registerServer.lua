-- Register a game server, or renew its lease (heartbeat). A new server is available at once.
-- A heartbeat keeps the state (an allocated server stays allocated). A different address while allocated
-- is refused: the players were told the old one.
-- ARGV[2]: {now, region, serverId, address, leaseMs}
--- @include "servers"

local id = A.serverId
local lease = NOW + tonumber(A.leaseMs)
local rec = get_server(id)
if not rec then
  rec = { address = A.address, state = 'available', registeredAt = NOW, lastHeartbeat = NOW,
    leaseExpiresAt = lease, gamesServed = 0 }
  save_server(id, rec, true)
  return cjson.encode({ outcome = 'registered', server = server_view(id, rec) })
end
if rec.state == 'allocated' and rec.address ~= A.address then
  return cjson.encode({ outcome = 'rejected', error = 'address_conflict',
    detail = 'server ' .. id .. ' is allocated to session ' .. tostring(rec.sessionId) .. ' at ' .. rec.address ..
      '; release it before changing its address to ' .. A.address })
end
rec.address = A.address
rec.lastHeartbeat = NOW
rec.leaseExpiresAt = lease
save_server(id, rec, false)
return cjson.encode({ outcome = 'heartbeat', server = server_view(id, rec) })
