-- The match-made messages of these sessions were sent: drop them from the outbox.
-- ARGV[2]: {now, region, sessionIds: [...]}
--- @include "base"

local n = 0
for _, sid in ipairs(A.sessionIds) do
  n = n + redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
end
return cjson.encode({ removed = n })
