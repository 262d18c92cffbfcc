-- confirmAnnounced: the match-made messages of these sessions were sent: drop them from the outbox.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, sessionIds: [...]}
-- Reply     JSON {removed: n}
--- @include "prologue"
--- @include "check_list"
--- @include "call_chunked"

-- One ZREM for all of them (the caller sends at least one id).
local ids = check_list('sessionIds', A.sessionIds, 1000)
for _, sid in ipairs(ids) do check_text('sessionIds', sid, '^[a-z0-9][a-z0-9-]*%.%d+$', 48) end
local n = 0
for i = 1, #ids, CHUNK do
  n = n + redis.call('ZREM', P .. 'SessionsAnnouncing', unpack(ids, i, math.min(i + CHUNK - 1, #ids)))
end
return cjson.encode({ removed = n })
