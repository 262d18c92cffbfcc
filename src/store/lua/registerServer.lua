-- registerServer: writes a game server's record in its region, or renews its lease (heartbeat): the last
-- step of ServerPool.register, after claimServer (global index) named the region and the claim token.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, address, token, leaseExpiresAt}
-- Reply     JSON {outcome: "registered" | "heartbeat", server, confirmedSessionId?} | {outcome: "fenced"}
--           | {outcome: "rejected", error, detail}
-- The record is written only under the claim's token: a token this region has retired (ServerFence) or
-- one older than the record's is "fenced" (the caller drops that claim and takes a fresh one), so a delayed
-- call can never bring back a retired record. A record under an older token (its lease ran out and the
-- server registered again) is retired first. A heartbeat keeps the state (an allocated server stays
-- allocated) and the lease only grows; the heartbeat of an allocated server that has not confirmed its
-- claim yet confirms it (from then on the server's death ends the game as serverLost).
--- @include "prologue"
--- @include "get_server"
--- @include "save_server"
--- @include "server_view"
--- @include "retire_server"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
local address = check_text('address', A.address, '^[%w%[][%w%.:%-%]]*:%d+$', 261)
local token = check_int('token', A.token, 1, 2 ^ 53)
local lease = check_int('leaseExpiresAt', A.leaseExpiresAt, 1, 2 ^ 53)

local rec = get_server(id)
if rec then
  local held = tonumber(rec.token) or 0
  if token < held then return '{"outcome":"fenced"}' end
  if token == held then
    if rec.address ~= address then
      return cjson.encode({ outcome = 'rejected', error = 'address_conflict',
        detail = 'server ' .. id .. ' is registered at ' .. rec.address .. '; a live server keeps its address' })
    end
    rec.lastHeartbeat = NOW
    if lease > (tonumber(rec.leaseExpiresAt) or 0) then rec.leaseExpiresAt = lease end
    local confirmed = nil
    if rec.state == 'allocated' and rec.sessionId and not rec.confirmedAt then
      rec.confirmedAt = NOW
      rec.claimExpiresAt = nil
      redis.call('ZREM', P .. 'ServerClaims', id)
      confirmed = rec.sessionId
    end
    save_server(id, rec, false)
    return cjson.encode({ outcome = 'heartbeat', server = server_view(id, rec), confirmedSessionId = confirmed })
  end
  retire_server(id, rec, 'lease')
else
  local fence = tonumber(redis.call('HGET', P .. 'ServerFence', id)) or 0
  if token <= fence then return '{"outcome":"fenced"}' end
end
-- The record's token fences older claims from now on (it only grows): the fence entry is not needed.
redis.call('HDEL', P .. 'ServerFence', id)
rec = { address = address, state = 'available', registeredAt = NOW, lastHeartbeat = NOW, leaseExpiresAt = lease,
  gamesServed = 0, token = token }
save_server(id, rec, true)
return cjson.encode({ outcome = 'registered', server = server_view(id, rec) })
