--- @include "balance_units"
-- A full session's teams (team order, players in unit order) and quality; the units' `t` become the
-- balanced placement (or stay the join-time packing when balancing finds none).
local function rules_session_fill(rule, s)
  local placed = balance_units(s.units, rule.teams, rule.teamSize)
  if placed then for i, u in ipairs(s.units) do u.t = placed[i] end end
  local teams, totals = {}, {}
  for t = 1, rule.teams do
    teams[t] = { players = {} }
    totals[t] = 0
  end
  for _, u in ipairs(s.units) do
    local t = (u.t or 0) + 1
    for j, pid in ipairs(u.p) do
      local list = teams[t].players
      list[#list + 1] = pid
      if u.s then totals[t] = totals[t] + u.s[j] end
    end
  end
  local gap = 0
  if rule.skill and rule.teams > 1 then
    local lo, hi = totals[1], totals[1]
    for t = 2, rule.teams do
      if totals[t] < lo then lo = totals[t] end
      if totals[t] > hi then hi = totals[t] end
    end
    gap = hi - lo
  end
  local spread = 0
  if s.smin ~= nil then spread = s.smax - s.smin end
  s.quality = { skillSpread = spread, teamSkillGap = gap, waitSeconds = math.max(0, NOW - (s.oldest or NOW)) / 1000 }
  -- cjson would write an empty players list as {}; every team of a full session has teamSize players.
  s.teams = teams
end
