-- The value of a session's member field `@<playerId>`: the ticket it joined with and when its wait started
-- (epoch ms as text), as includes/session_members.lua reads it.
local function member_value(ticketId, waitStartText)
  return ticketId .. ' ' .. waitStartText
end
