-- The units of a rules session with only the players `keep(pid)` accepts (a unit left empty is gone);
-- `on_drop(pid, skill)`, when given, is told each player left out. Skills stay aligned with their players.
local function rules_units_keep(units, keep, on_drop)
  local kept = {}
  for _, u in ipairs(units) do
    local rest, skills = {}, u.s and {} or nil
    for j, pid in ipairs(u.p) do
      if keep(pid) then
        rest[#rest + 1] = pid
        if skills then skills[#skills + 1] = u.s[j] end
      elseif on_drop then
        on_drop(pid, u.s and u.s[j])
      end
    end
    if #rest > 0 then kept[#kept + 1] = { p = rest, s = skills, at = u.at, t = u.t } end
  end
  return kept
end
