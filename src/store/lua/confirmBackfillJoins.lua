-- confirmBackfillJoins: the match-made messages of these backfill joins were sent: out of the outbox.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, joinIds: [...]}
-- Reply     JSON {removed: n}
--- @include "prologue"
--- @include "check_list"

local ids = check_list('joinIds', A.joinIds, 1000)
for _, id in ipairs(ids) do check_text('joinIds', id, '^[a-z0-9][a-z0-9-]*%.b%d+%.%d+$', 64) end
local n = 0
for _, id in ipairs(ids) do
  n = n + redis.call('ZREM', P .. 'BackfillJoinsAnnouncing', id)
  redis.call('DEL', P .. 'BackfillJoin:' .. id)
end
return cjson.encode({ removed = n })
