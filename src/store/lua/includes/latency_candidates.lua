-- The units that may join a group in region r under the latency max m (reads only): {pid, ms (its latency
-- to r; 0 = not measured, home region only), u (its unit, includes/latency_unit.lua; nil in a plain mode:
-- solo tickets, whose records need not be read)}. With skill, `near` (includes/latency_near.lua: the units
-- near the anchor in skill, nearest first) that may be placed in r within m, in that order; without, the
-- K = size + 8 entries of lowest latency in ByLatency:<mode>:<r> within m plus `fresh` (this call's units)
-- within m, lowest latency first (then the leader id). Reads at most one index range and K unit records.
local function latency_candidates(mode, rule, r, m, fresh, unit_of, near)
  local cand = {}
  if near then
    for _, u in ipairs(near) do
      local ms = u.ms[r]
      if ms ~= nil and (ms or 0) <= m then cand[#cand + 1] = { pid = u.pid, ms = ms or 0, u = u } end
    end
    return cand
  end
  local flat = redis.call('ZRANGEBYSCORE', POOL .. 'ByLatency:' .. mode .. ':' .. r, '-inf', m, 'WITHSCORES', 'LIMIT', 0, rule.size + 8)
  for k = 1, #flat, 2 do
    local u = not rule.plain and unit_of(flat[k]) or nil
    if rule.plain or u then cand[#cand + 1] = { pid = flat[k], ms = tonumber(flat[k + 1]), u = u } end
  end
  for _, u in ipairs(fresh) do
    local ms = u.ms[r]
    if ms ~= nil and (ms or 0) <= m then cand[#cand + 1] = { pid = u.pid, ms = ms or 0, u = u } end
  end
  table.sort(cand, function(x, y) return x.ms < y.ms or (x.ms == y.ms and x.pid < y.pid) end)
  return cand
end
