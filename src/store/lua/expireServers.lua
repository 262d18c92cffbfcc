-- expireServers: servers whose lease ran out leave the pool; an allocated one's session is requeued.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, max}
-- Reply     JSON {expired: [{serverId, wasAllocated, sessionId?}], requeued: [sessionId]}
-- front of the ready queue with the same players (see requeue_session in includes/servers.lua).
--- @include "prologue"
--- @include "get_server"
--- @include "requeue_session"
--- @include "remove_servers"

local max = check_int('max', A.max, 1, 100000)
local expired = {}
local requeued = {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'ServerLeases', '-inf', NOW, 'LIMIT', 0, max)
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
