-- Adds a region record to retire before a claim's own record may be written (once per serverId + token).
-- `tasks` is the claim's list {serverId, region, token, address}; a token of 0 names no record.
local function add_retire_task(tasks, serverId, region, token, address)
  if not token or token == 0 then return end
  for _, t in ipairs(tasks) do
    if t.serverId == serverId and t.token == token then return end
  end
  tasks[#tasks + 1] = { serverId = serverId, region = region, token = token, address = address }
end
