-- A player's ticket as the ticket endpoint shows it, in one consistent read.
-- ARGV[2]: {now, region, playerId}
--- @include "sessions"

local p = hgetall(P .. 'Player:' .. A.playerId)
if not p.ticketId then return cjson.encode({ found = false }) end
local out = { found = true, player = p }
if p.state == 'matched' then out.assignment = player_assignment(A.playerId, p) end
return cjson.encode(out)
