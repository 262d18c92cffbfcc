--- @include "skill_window"
--- @include "pack_units"
-- Whether unit u may join s under the mode's rules now: room for the whole unit, all units still pack into
-- teams, and (skill) the spread stays within the window in force for the joined group's longest wait.
-- Needs only the session's summary (size, smin, smax, oldest, sizes: no units decoded). Returns the team of
-- every unit after the join (the session's unit order, then u), or nil. Reads and changes nothing.
local function rules_unit_fits(rule, s, u, umin, umax)
  if s.size + #u.p > s.capacity then return nil end
  if rule.skill then
    local lo, hi = umin, umax
    if s.smin ~= nil then
      if s.smin < lo then lo = s.smin end
      if s.smax > hi then hi = s.smax end
    end
    local oldest = u.at
    if s.oldest ~= nil and s.oldest < oldest then oldest = s.oldest end
    if hi - lo > skill_window(rule.skill, NOW - oldest) then return nil end
  end
  local sizes = {}
  for i, n in ipairs(s.sizes) do sizes[i] = n end
  sizes[#sizes + 1] = #u.p
  if rule.teams == 1 then
    local placed = {}
    for i = 1, #sizes do placed[i] = 0 end
    return placed
  end
  return pack_units(sizes, rule.teams, rule.teamSize)
end
