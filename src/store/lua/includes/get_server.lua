-- Server registry. Servers hash: serverId -> JSON {address, state (available|allocated), sessionId,
-- registeredAt, lastHeartbeat, leaseExpiresAt, gamesServed}. ServersAvailable zset: serverId -> the time
-- it became free (lowest = idle longest, taken first). ServerLeases zset: serverId -> lease expiry.
-- Invariant: every server in Servers is either in ServersAvailable (state available) or allocated to
-- exactly one existing assigned session whose `server` field points back to it.
-- A server's record, or nil.
local function get_server(id)
  local raw = redis.call('HGET', P .. 'Servers', id)
  if not raw then return nil end
  return cjson.decode(raw)
end
