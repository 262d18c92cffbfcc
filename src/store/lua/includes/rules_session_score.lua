-- The score of an open skill session in SessionsBySkill:<mode> (the midpoint of its skill range).
local function rules_session_score(s)
  if s.smin == nil then return 0 end
  return (s.smin + s.smax) / 2
end
