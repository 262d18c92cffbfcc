-- registerServer: register a game server, or renew its lease (heartbeat).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, address, leaseMs}
-- Reply     JSON {outcome: "registered" | "heartbeat", server} | {outcome: "rejected", error, detail}
-- A heartbeat keeps the state (an allocated server stays allocated). A different address while allocated
-- is refused: the players were told the old one.
--- @include "prologue"
--- @include "get_server"
--- @include "save_server"
--- @include "server_view"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
check_text('address', A.address, '^[%w%[][%w%.:%-%]]*:%d+$', 261)
local lease = NOW + check_int('leaseMs', A.leaseMs, 1, 2 ^ 40)
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
