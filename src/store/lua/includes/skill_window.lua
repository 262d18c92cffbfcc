-- The skill window in force for a group whose longest-waiting ticket has waited waitMs (the last widen step
-- whose afterSeconds it has passed; before any, the base window). Same rule as skillWindowAt in modeRules.ts.
local function skill_window(skill, waitMs)
  local w = skill.window
  for _, step in ipairs(skill.widen) do
    if waitMs >= step[1] then w = step[2] end
  end
  return w
end

