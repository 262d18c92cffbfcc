--- @include "rules_session_derive"
-- Adds u to s with the packing rules_unit_fits returned.
local function rules_session_add(s, u, placed)
  s.units[#s.units + 1] = u
  for i, x in ipairs(s.units) do x.t = placed[i] end
  s.size = rules_session_derive(s)
end
