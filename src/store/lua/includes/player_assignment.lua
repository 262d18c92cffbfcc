--- @include "session_assignment"
--- @include "assignment_payload"
-- The assignment a matched player was given, also after its session ended (server released): then
-- it is rebuilt from the player's own record, with the player alone in `players`.
local function player_assignment(pid, p)
  local a = p.session and session_assignment(p.session)
  if a then return a end
  return assignment_payload(p.session or '', p.server or '', p.address or '',
    { { playerId = pid, ticketId = p.ticketId } }, p.mode or '', tonumber(p.assignedAt) or 0)
end
