--- @include "session_assignment"
--- @include "assignment_payload"
-- The assignment a matched player was given: the live session's, or, once the game ended (server
-- released, session deleted), the copy assignSessions kept in Match:<sid> for the ticket retention, with
-- all the match's players. Only when that is gone too is it rebuilt from the player's own record alone.
local function player_assignment(pid, p)
  local a = p.session and session_assignment(p.session)
  if a then return a end
  local kept = p.session and redis.call('GET', P .. 'Match:' .. p.session)
  if kept then return cjson.decode(kept) end
  return assignment_payload(p.session or '', p.server or '', p.address or '',
    { { playerId = pid, ticketId = p.ticketId } }, p.mode or '', tonumber(p.assignedAt) or 0)
end
