-- claimBackfillJoins: backfill joins whose match-made was not confirmed sent within olderThanMs are
-- re-stamped and returned for re-publishing (the outbox of fillBackfills.lua; match-made consumers are
-- idempotent). An entry whose payload expired (ticket retention) is dropped.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, olderThanMs, max}
-- Reply     JSON {joins: [join as fillBackfills answers it], more}
--- @include "prologue"
--- @include "claim_outbox"

local olderThan = check_int('olderThanMs', A.olderThanMs, 0, 2 ^ 40)
local max = check_int('max', A.max, 1, 1000)
local out, looked = claim_outbox(P .. 'BackfillJoinsAnnouncing', NOW - olderThan, max, function(joinId)
  return redis.call('GET', P .. 'BackfillJoin:' .. joinId)
end)
return '{"joins":[' .. table.concat(out, ',') .. '],"more":' .. (looked == max and 'true' or 'false') .. '}'
