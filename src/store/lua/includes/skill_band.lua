-- The skill band a skill counts in (SkillBands:<mode> field): the band's lower bound as text. Bands are
-- SKILL_BAND_WIDTH (src/store/types.ts) = 100 wide.
local function skill_band(skill)
  return string.format('%d', math.floor(skill / 100) * 100)
end
