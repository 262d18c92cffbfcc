--- @include "call_chunked"
-- Removes servers from the registry: four calls for the whole list (record, free list, lease, claim window).
local function remove_servers(ids)
  call_chunked('HDEL', P .. 'Servers', ids)
  call_chunked('ZREM', P .. 'ServersAvailable', ids)
  call_chunked('ZREM', P .. 'ServerLeases', ids)
  call_chunked('ZREM', P .. 'ServerClaims', ids)
end
