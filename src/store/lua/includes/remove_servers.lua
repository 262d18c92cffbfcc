--- @include "call_chunked"
-- Removes servers from the registry: three calls for the whole list.
local function remove_servers(ids)
  call_chunked('HDEL', P .. 'Servers', ids)
  call_chunked('ZREM', P .. 'ServersAvailable', ids)
  call_chunked('ZREM', P .. 'ServerLeases', ids)
end
