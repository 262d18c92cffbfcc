-- Writes a server's record and its lease (rec.leaseExpiresAt); `available`: it is free from now on
-- (enters ServersAvailable at the back of the idle order).
local function save_server(id, rec, available)
  redis.call('HSET', P .. 'Servers', id, cjson.encode(rec))
  if available then redis.call('ZADD', P .. 'ServersAvailable', NOW, id) end
  redis.call('ZADD', P .. 'ServerLeases', rec.leaseExpiresAt, id)
end
