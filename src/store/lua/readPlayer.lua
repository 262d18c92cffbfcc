-- readPlayer: a player's ticket as the ticket endpoint shows it, in one consistent read (writes nothing).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, playerId}
-- Reply     JSON {found: false} | {found: true, player: {field: value of Player:<id>}, assignment?}
-- The record is shown as the logical schema has it: `state` matched (derived: includes/player_state.lua)
-- with `server, address, assignedAt` and `lostAt` from the assignment, `region`, and `requeuedAt` of its
-- session. A matched record whose assignment has expired (the retention ended a moment ago) is not found.
--- @include "prologue"
--- @include "hgetall"
--- @include "player_state"
--- @include "session_assignment"

check_text('playerId', A.playerId, '^[A-Za-z0-9_-]+$', 64)
local p = hgetall(P .. 'Player:' .. A.playerId)
if not p.ticketId then return cjson.encode({ found = false }) end
local sessionState, requeuedAt
if p.session then
  local h = redis.call('HMGET', P .. 'Session:' .. p.session, 'state', 'requeuedAt')
  sessionState, requeuedAt = h[1] or nil, h[2] or nil
end
p.state = player_state(p, sessionState or 'gone')
p.region = REGION
p.seen = nil
if requeuedAt then p.requeuedAt = requeuedAt end
local out = { found = true, player = p }
if p.state == 'matched' then
  local a, lost = session_assignment(p.session)
  if not a then return cjson.encode({ found = false }) end
  out.assignment = a
  p.server, p.address, p.assignedAt = a.serverId, a.address, int(a.assignedAt or 0)
  if lost then p.lostAt = int(lost) end
end
return cjson.encode(out)
