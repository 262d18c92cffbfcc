-- A server record under `token` left this region: no record of that id may be written here again under
-- that token or an older one (ServerFence hash: serverId -> highest retired token). A delayed register
-- carrying a retired claim is answered "fenced" instead of bringing the record back.
local function fence_server(id, token)
  if not token or token == 0 then return end
  local fence = tonumber(redis.call('HGET', P .. 'ServerFence', id)) or 0
  if token > fence then redis.call('HSET', P .. 'ServerFence', id, string.format('%d', token)) end
end
