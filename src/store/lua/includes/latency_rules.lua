--- @include "mode_rules"
-- The latency modes of a call, checked (ARGV is input: nothing unchecked reaches a comparison): {mode:
-- {size, teams, teamSize, maxPartySize, skill?: {window, widen: [{afterSeconds, window}]}, latency: {max,
-- widen: [[afterSeconds, max], ...]}}} -> mode -> the rule includes/mode_rules.lua makes of it (size, teams,
-- teamSize, maxParty, plain, skill?), plus `latency = {window = max, widen = {{afterMs, max}}}`: the shape
-- includes/skill_window.lua reads (the max in force is the widened rule's value at a wait, as a skill
-- window is). A max is a number of ms 0-10000, afterSeconds a number 0-3600. A name like "constructor" is
-- simply absent (cjson tables have no metatable).
local function latency_rules(modes)
  if type(modes) ~= 'table' then input_error('modes', 'must be an object {mode: {size, teams, teamSize, maxPartySize, skill?, latency}}') end
  local function number(field, v, top)
    if type(v) ~= 'number' or v ~= v or v < 0 or v > top then input_error(field, 'must be a number in [0, ' .. top .. ']') end
    return v
  end
  local out = mode_rules(modes)
  for mode, r in pairs(modes) do
    local at = 'modes.' .. mode .. '.latency'
    local l = type(r) == 'table' and r.latency or nil
    if type(l) ~= 'table' or type(l.widen) ~= 'table' then input_error(at, 'must be {max, widen}') end
    local rule = { window = number(at .. '.max', l.max, 10000), widen = {} }
    for i, step in ipairs(l.widen) do
      if type(step) ~= 'table' then input_error(at .. '.widen', 'steps are [afterSeconds, max]') end
      rule.widen[i] = { number(at .. '.widen.afterSeconds', step[1], 3600) * 1000, number(at .. '.widen.max', step[2], 10000) }
    end
    out[mode].latency = rule
  end
  return out
end
