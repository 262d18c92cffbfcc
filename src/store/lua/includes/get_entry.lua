-- A server's entry in the global index (hash Where: serverId -> JSON {region, token, address,
-- leaseExpiresAt, retire}), or nil.
local function get_entry(id)
  local raw = redis.call('HGET', P .. 'Where', id)
  if not raw then return nil end
  return cjson.decode(raw)
end
