-- The `seen` list a player's record keeps once `newest` is no longer its ticket (replaced by a new ticket,
-- or a ticket a leave preempted): `newest` and up to 3 of the earlier ones, newest first, space-separated.
-- Four are plenty: an older ticket is also recognised by its requestedAt (includes/ticket_seen.lua).
local function tickets_remembered(newest, seen)
  if not newest then return seen end
  local list, n = newest, 1
  if seen then
    for t in string.gmatch(seen, '[^ ]+') do
      if n >= 4 then break end
      if t ~= newest then
        list = list .. ' ' .. t
        n = n + 1
      end
    end
  end
  return list
end
