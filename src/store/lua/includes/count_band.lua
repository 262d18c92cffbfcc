--- @include "skill_band"
-- Adds n to the pending SkillBands change of `mode` for `skill` (delta: mode -> band -> n, written by the
-- caller with HINCRBY once its decisions are made).
local function count_band(delta, mode, skill, n)
  local b = delta[mode]
  if not b then
    b = {}
    delta[mode] = b
  end
  local k = skill_band(skill)
  b[k] = (b[k] or 0) + n
end
