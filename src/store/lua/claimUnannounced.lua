-- Assigned sessions whose match-made was not confirmed sent within olderThanMs (the sender crashed or the
-- send failed): re-score them to now (so two sweepers do not both pick them up right away) and return their
-- assignments for re-publishing. Consumers of match-made are idempotent.
-- ARGV[2]: {now, region, olderThanMs, max}
--- @include "sessions"

local out = {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'SessionsAnnouncing', '-inf', NOW - tonumber(A.olderThanMs),
  'LIMIT', 0, tonumber(A.max))
for _, sid in ipairs(ids) do
  local a = session_assignment(sid)
  if a then
    redis.call('ZADD', P .. 'SessionsAnnouncing', NOW, sid)
    out[#out + 1] = a
  else
    redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
  end
end
return cjson.encode({ assignments = out })
