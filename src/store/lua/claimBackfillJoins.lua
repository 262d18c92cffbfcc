-- claimBackfillJoins: backfill joins whose match-made was not confirmed sent within olderThanMs are
-- re-stamped and returned for re-publishing (the outbox of fillBackfills.lua; match-made consumers are
-- idempotent). An entry whose payload expired (ticket retention) is dropped.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, olderThanMs, max}
-- Reply     JSON {joins: [join as fillBackfills answers it], more}
--- @include "prologue"
--- @include "call_chunked"

local olderThan = check_int('olderThanMs', A.olderThanMs, 0, 2 ^ 40)
local max = check_int('max', A.max, 1, 1000)
-- Reads first, writes last.
local ids = redis.call('ZRANGEBYSCORE', P .. 'BackfillJoinsAnnouncing', '-inf', NOW - olderThan, 'LIMIT', 0, max)
local out, restamp, gone = {}, {}, {}
for _, joinId in ipairs(ids) do
  local payload = redis.call('GET', P .. 'BackfillJoin:' .. joinId)
  if payload then
    restamp[#restamp + 1] = NOW_TEXT
    restamp[#restamp + 1] = joinId
    out[#out + 1] = payload
  else
    gone[#gone + 1] = joinId
  end
end
call_chunked('ZADD', P .. 'BackfillJoinsAnnouncing', restamp)
call_chunked('ZREM', P .. 'BackfillJoinsAnnouncing', gone)
return '{"joins":[' .. table.concat(out, ',') .. '],"more":' .. (#ids == max and 'true' or 'false') .. '}'
