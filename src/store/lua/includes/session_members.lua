-- A session hash as read with HGETALL, split: its members are the fields `@<playerId>` = "<ticketId>
-- <waitStart>" (the ticket it joined with and when its wait started: its requestedAt, or the requeue time;
-- player ids cannot hold '@', so no member clashes with a fixed field). Returns the member ids sorted,
-- playerId -> ticketId, the fixed fields (field -> value; empty when the session is gone) and
-- playerId -> waitStart (a number).
local function session_members(flat)
  local pids, tickets, h, waits = {}, {}, {}, {}
  for i = 1, #flat, 2 do
    local k = flat[i]
    if string.byte(k, 1) == 64 then
      local pid = string.sub(k, 2)
      local v = flat[i + 1]
      local space = string.find(v, ' ', 1, true) or (#v + 1)
      pids[#pids + 1] = pid
      tickets[pid] = string.sub(v, 1, space - 1)
      waits[pid] = tonumber(string.sub(v, space + 1))
    else
      h[k] = flat[i + 1]
    end
  end
  table.sort(pids)
  return pids, tickets, h, waits
end
