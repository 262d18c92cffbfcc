-- claimUnannounced: outbox entries older than olderThanMs are re-stamped and returned for re-publishing.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, olderThanMs, max}
-- Reply     JSON {assignments: [assignment], more} (more = true: max were claimed, there may be others)
-- send failed): re-score them to now (so two sweepers do not both pick them up right away) and return their
-- assignments for re-publishing. Consumers of match-made are idempotent.
--- @include "prologue"
--- @include "session_assignment"
--- @include "call_chunked"

local olderThan = check_int('olderThanMs', A.olderThanMs, 0, 2 ^ 40)
local max = check_int('max', A.max, 1, 1000)
-- Reads first, writes last (a failure can only happen before the first write).
local out, restamp, gone = {}, {}, {}
local ids = redis.call('ZRANGEBYSCORE', P .. 'SessionsAnnouncing', '-inf', NOW - olderThan, 'LIMIT', 0, max)
for _, sid in ipairs(ids) do
  local a = session_assignment(sid)
  if a then
    restamp[#restamp + 1] = NOW_TEXT
    restamp[#restamp + 1] = sid
    out[#out + 1] = a
  else
    gone[#gone + 1] = sid
  end
end
call_chunked('ZADD', P .. 'SessionsAnnouncing', restamp)
call_chunked('ZREM', P .. 'SessionsAnnouncing', gone)
return cjson.encode({ assignments = out, more = #ids == max })
