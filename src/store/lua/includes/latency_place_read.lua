-- What placing a group in its region needs to know (reads only): each member's record in that region (its
-- earlier ticket there, if any) -> the plan latency_place_write carries out, or nil when a member has a
-- live ticket of its own in that region (one orchestration per player makes that impossible; never
-- overwritten all the same). g: {region, leaders, waitMs, existing?} (includes/latency_groups.lua,
-- latency_reopened.lua); unit_of(leader) -> its unit (includes/latency_unit_reader.lua; this call's
-- tickets carry `fresh` and the pool records to write, `poolWrites`).
local function latency_place_read(mode, rule, g, unit_of)
  in_region(g.region)
  local plan = { region = g.region, mode = mode, rule = rule, units = {}, members = {}, waitMs = g.waitMs, existing = g.existing }
  for _, leader in ipairs(g.leaders) do
    local u = unit_of(leader)
    if not u then return nil end
    plan.units[#plan.units + 1] = u
    for j, pid in ipairs(u.p) do
      local h = redis.call('HMGET', P .. 'Player:' .. pid, 'ticketId', 'state', 'session', 'seen', 'requestedAt')
      local cur = { ticketId = h[1] or nil, state = h[2] or nil, session = h[3] or nil, seen = h[4] or nil, at = tonumber(h[5]) }
      local state = cur.ticketId and player_state(cur) or nil
      if state == 'waiting' then return nil end
      plan.members[#plan.members + 1] = {
        pid = pid, u = u, j = j, existed = cur.ticketId ~= nil or cur.state ~= nil,
        detach = state == 'matched' and cur.session or nil,
        seen = tickets_remembered(cur.seen, cur.ticketId, cur.at, u.at),
      }
    end
  end
  return plan
end
