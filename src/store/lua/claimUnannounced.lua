-- claimUnannounced: outbox entries older than olderThanMs are re-stamped and returned for re-publishing.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, olderThanMs, max}
-- Reply     JSON {assignments: [assignment], more} (more = true: max were claimed, there may be others)
-- send failed): re-score them to now (so two sweepers do not both pick them up right away) and return their
-- assignments for re-publishing. Consumers of match-made are idempotent.
--- @include "prologue"
--- @include "session_assignment"
--- @include "claim_outbox"

local olderThan = check_int('olderThanMs', A.olderThanMs, 0, 2 ^ 40)
local max = check_int('max', A.max, 1, 1000)
local out, looked = claim_outbox(P .. 'SessionsAnnouncing', NOW - olderThan, max, session_assignment)
return cjson.encode({ assignments = out, more = looked == max })
