-- Team placement of a session's units (a unit = a solo ticket or a whole party; never split).
-- `units`: {{p = {pids}, s = {skills} | nil, at = requestedAt, t = team}...}.
-- Balancing at fill: largest units first (then the most skilled), each into the team with the lowest skill
-- total that has room for it. Returns a team index per unit, or nil when that greedy order cannot place a
-- unit (the caller then keeps the join-time packing, which always fits).
local function balance_units(units, teams, teamSize)
  local function unit_skill(u)
    local sum = 0
    if u.s then for _, v in ipairs(u.s) do sum = sum + v end end
    return sum
  end
  local order, skill = {}, {}
  for i = 1, #units do
    order[i] = i
    skill[i] = unit_skill(units[i])
  end
  table.sort(order, function(a, b)
    local na, nb = #units[a].p, #units[b].p
    if na ~= nb then return na > nb end
    if skill[a] ~= skill[b] then return skill[a] > skill[b] end
    return a < b
  end)
  local fill, total, placed = {}, {}, {}
  for t = 0, teams - 1 do
    fill[t] = 0
    total[t] = 0
  end
  for _, i in ipairs(order) do
    local n = #units[i].p
    local chosen
    for t = 0, teams - 1 do
      if fill[t] + n <= teamSize and (chosen == nil or total[t] < total[chosen]) then chosen = t end
    end
    if chosen == nil then return nil end
    fill[chosen] = fill[chosen] + n
    total[chosen] = total[chosen] + skill[i]
    placed[i] = chosen
  end
  return placed
end
