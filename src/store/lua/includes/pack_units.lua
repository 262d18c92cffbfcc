-- Team placement of a session's units (a unit = a solo ticket or a whole party; never split).
-- `sizes`: the units' player counts, in the session's unit order.
-- Feasibility packing, first fit decreasing: the largest units first, each into the first team with
-- room. Returns a team index (0-based) per unit, or nil when it finds no packing. Deterministic (ties keep
-- the units' order). Used at join: a unit may join only if all units still pack into teams x teamSize.
local function pack_units(sizes, teams, teamSize)
  -- Units are small (at most teamSize players): visit them by size, largest first, in unit order within a
  -- size (the same order as sorting by size, stable), without a sort.
  local fill, placed = {}, {}
  for t = 0, teams - 1 do fill[t] = 0 end
  local largest = 0
  for _, n in ipairs(sizes) do
    if n > largest then largest = n end
  end
  for n = largest, 1, -1 do
    for i, m in ipairs(sizes) do
      if m == n then
        local chosen
        for t = 0, teams - 1 do
          if fill[t] + n <= teamSize then
            chosen = t
            break
          end
        end
        if chosen == nil then return nil end
        fill[chosen] = fill[chosen] + n
        placed[i] = chosen
      end
    end
  end
  return placed
end
