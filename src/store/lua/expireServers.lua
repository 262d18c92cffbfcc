-- Servers whose lease ran out (no heartbeat) leave the pool. An allocated one's session is requeued at the
-- front of the ready queue with the same players (see requeue_session in includes/servers.lua).
-- ARGV[2]: {now, region, max}
--- @include "servers"

local expired = {}
local requeued = {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'ServerLeases', '-inf', NOW, 'LIMIT', 0, tonumber(A.max))
for _, id in ipairs(ids) do
  local rec = get_server(id)
  local entry = { serverId = id, wasAllocated = false }
  if rec and rec.state == 'allocated' and rec.sessionId then
    entry.wasAllocated = true
    entry.sessionId = rec.sessionId
    if requeue_session(rec.sessionId) then requeued[#requeued + 1] = rec.sessionId end
  end
  expired[#expired + 1] = entry
end
-- After the loop: requeue_session touches no server key.
remove_servers(ids)
return cjson.encode({ expired = expired, requeued = requeued })
