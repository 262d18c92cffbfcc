-- Whether a player's record (its ticketId, requestedAt and `seen` list) says the ticket `ticketId`
-- requested at `at` reached the store before: it is the record's ticket, one the record remembers (an
-- earlier ticket of the player, or one a leave preempted), or older than the record's own (a later ticket
-- superseded it). The record is the redelivery guard: there is no key per ticket.
local function ticket_seen(recTicket, recAt, seen, ticketId, at)
  if not recTicket then return false end
  if recTicket == ticketId or (at and recAt and at < recAt) then return true end
  if seen then
    for t in string.gmatch(seen, '[^ ]+') do
      if t == ticketId then return true end
    end
  end
  return false
end
