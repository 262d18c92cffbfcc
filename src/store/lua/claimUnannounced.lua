-- claimUnannounced: outbox entries older than olderThanMs are re-stamped and returned for re-publishing.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, olderThanMs, max}
-- Reply     JSON {assignments: [assignment]}
-- send failed): re-score them to now (so two sweepers do not both pick them up right away) and return their
-- assignments for re-publishing. Consumers of match-made are idempotent.
--- @include "prologue"
--- @include "session_assignment"

local olderThan = check_int('olderThanMs', A.olderThanMs, 0, 2 ^ 40)
local max = check_int('max', A.max, 1, 100000)
local out = {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'SessionsAnnouncing', '-inf', NOW - olderThan, 'LIMIT', 0, max)
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
