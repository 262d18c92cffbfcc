-- Whether a player's record (its ticketId, requestedAt and `seen` list: includes/tickets_remembered.lua)
-- says the ticket `ticketId` requested at `at` reached the store before: it is the record's ticket, one the
-- record remembers, or older than the record's own (a record's requestedAt never goes down, so every
-- ticket it held before is older, or of the same millisecond and remembered). The record is the
-- redelivery guard: there is no key per ticket. `at` nil: the request time is not known.
local function ticket_seen(recTicket, recAt, seen, ticketId, at)
  if not recTicket then return false end
  if recTicket == ticketId or (at and recAt and at < recAt) then return true end
  if seen then
    for e in string.gmatch(seen, '[^ ]+') do
      if e == ticketId or string.match(e, '^([^@]+)@') == ticketId then return true end
    end
  end
  return false
end
