-- The `seen` list a player's record keeps when it takes a new ticket requested at `newAt`: the tickets
-- its requestedAt alone could not tell apart from a new one. Entries are space-separated: "<ticketId>" for
-- an earlier ticket of the very same millisecond as the record's (a later millisecond makes every earlier
-- ticket "older", includes/ticket_seen.lua), "<ticketId>@<until>" for a ticket a leave preempted (its
-- request time is unknown), kept for the ticket retention from the preempt (after that its request is
-- older than the retention anyway: ticket_stale). `prevTicket`/`prevAt`: the ticket the record held.
local function tickets_remembered(seen, prevTicket, prevAt, newAt)
  local tie = prevAt ~= nil and prevAt == newAt
  local out = {}
  if seen then
    for e in string.gmatch(seen, '[^ ]+') do
      local untilAt = string.match(e, '@(%d+)$')
      if untilAt then
        if tonumber(untilAt) >= NOW then out[#out + 1] = e end
      elseif tie then
        out[#out + 1] = e
      end
    end
  end
  if prevTicket and tie then out[#out + 1] = prevTicket end
  if #out == 0 then return nil end
  return table.concat(out, ' ')
end
