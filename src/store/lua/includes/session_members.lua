-- A session hash as read with HGETALL, split: its members are the fields `@<playerId>` (value: the
-- ticketId the player joined with; player ids cannot hold '@', so no member clashes with a fixed field).
-- Returns the member ids sorted, playerId -> ticketId, and the fixed fields (field -> value; empty when the
-- session is gone).
local function session_members(flat)
  local pids, tickets, h = {}, {}, {}
  for i = 1, #flat, 2 do
    local k = flat[i]
    if string.byte(k, 1) == 64 then
      local pid = string.sub(k, 2)
      pids[#pids + 1] = pid
      tickets[pid] = flat[i + 1]
    else
      h[k] = flat[i + 1]
    end
  end
  table.sort(pids)
  return pids, tickets, h
end
