-- cancelBackfill: the game needs no more players (DELETE /api/servers/{serverId}/backfill).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, sessionId?}
-- Reply     JSON {outcome: "cancelled", backfillId, sessionId} | {outcome: "none"} (no open request)
--           | {outcome: "sessionMismatch", currentSessionId} | {outcome: "notFound"}
-- Idempotent: a repeated cancel answers "none". Joins made before the cancel stand.
--- @include "prologue"
--- @include "get_server"
--- @include "end_backfill"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
if A.sessionId ~= nil then check_text('sessionId', A.sessionId, '^[a-z0-9][a-z0-9-]*%.%d+$', 48) end

local rec = get_server(id)
if not rec then return '{"outcome":"notFound"}' end
if rec.state ~= 'allocated' or not rec.sessionId then return '{"outcome":"none"}' end
if A.sessionId and A.sessionId ~= rec.sessionId then return cjson.encode({ outcome = 'sessionMismatch', currentSessionId = rec.sessionId }) end
local sid = rec.sessionId
local backfillId = redis.call('HGET', P .. 'Backfill:' .. sid, 'backfillId')
if not backfillId then return '{"outcome":"none"}' end
end_backfill(sid)
return cjson.encode({ outcome = 'cancelled', backfillId = backfillId, sessionId = sid })
