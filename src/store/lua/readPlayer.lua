-- readPlayer: a player's ticket as the ticket endpoint shows it, in one consistent read (writes nothing).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, playerId}
-- Reply     JSON {found: false} | {found: true, player: {field: value of Player:<id>}, assignment?}
--- @include "prologue"
--- @include "hgetall"
--- @include "player_assignment"

check_text('playerId', A.playerId, '^[A-Za-z0-9_-]+$', 64)
local p = hgetall(P .. 'Player:' .. A.playerId)
if not p.ticketId then return cjson.encode({ found = false }) end
local out = { found = true, player = p }
if p.state == 'matched' then out.assignment = player_assignment(A.playerId, p) end
return cjson.encode(out)
