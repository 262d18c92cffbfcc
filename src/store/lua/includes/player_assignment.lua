--- @include "session_assignment"
--- @include "assignment_payload"
-- The assignment a matched player was given (Match:<sid>, with all the match's players) and the time its
-- server was lost (or nil). Only when that is gone (the retention ended) is it rebuilt from the record alone.
local function player_assignment(pid, p)
  local a, lost = session_assignment(p.session or '')
  if a then return a, lost end
  return assignment_payload(p.session or '', '', '', { { playerId = pid, ticketId = p.ticketId } }, p.mode or '', 0)
end
