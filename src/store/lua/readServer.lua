-- readServer: a server and, while allocated, the session and players it got (writes nothing).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId}
-- Reply     JSON {found: false} | {found: true, server, assignment?, backfill?: {backfillId, slots: "n,m", requestedAt}}
--- @include "prologue"
--- @include "get_server"
--- @include "server_view"
--- @include "session_assignment"

check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
local rec = get_server(A.serverId)
if not rec then return cjson.encode({ found = false }) end
local out = { found = true, server = server_view(A.serverId, rec) }
if rec.state == 'allocated' and rec.sessionId then
  out.assignment = session_assignment(rec.sessionId)
  -- Backfill (issue 14): the game's open request for players, if any.
  local bf = redis.call('HMGET', P .. 'Backfill:' .. rec.sessionId, 'backfillId', 'slots', 'requestedAt')
  if bf[1] then out.backfill = { backfillId = bf[1], slots = bf[2] or '', requestedAt = tonumber(bf[3]) or 0 } end
end
return cjson.encode(out)
