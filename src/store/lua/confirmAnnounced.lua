-- The match-made messages of these sessions were sent: drop them from the outbox.
-- ARGV[2]: {now, region, sessionIds: [...]}
--- @include "base"

-- One ZREM for all of them (the caller sends at least one id).
local ids = A.sessionIds
local n = 0
for i = 1, #ids, CHUNK do
  n = n + redis.call('ZREM', P .. 'SessionsAnnouncing', unpack(ids, i, math.min(i + CHUNK - 1, #ids)))
end
return cjson.encode({ removed = n })
