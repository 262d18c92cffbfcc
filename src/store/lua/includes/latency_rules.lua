-- The latency modes of a call, checked (ARGV is input: nothing unchecked reaches a comparison):
-- {mode: {size, max, widen: [[afterSeconds, max], ...]}} -> mode -> {size, window = max, widen = {{afterMs,
-- max}}}: the shape includes/skill_window.lua reads (the max in force is the widened rule's value at a wait,
-- as a skill window is). A max is a number of ms 0-10000, afterSeconds a number 0-3600. A name like
-- "constructor" is simply absent (cjson tables have no metatable).
local function latency_rules(modes)
  if type(modes) ~= 'table' then input_error('modes', 'must be an object {mode: {size, max, widen}}') end
  local function number(field, v, top)
    if type(v) ~= 'number' or v ~= v or v < 0 or v > top then input_error(field, 'must be a number in [0, ' .. top .. ']') end
    return v
  end
  local out = {}
  for mode, r in pairs(modes) do
    check_text('modes', mode, '^[a-z0-9][a-z0-9_-]*$', 32)
    local at = 'modes.' .. mode
    if type(r) ~= 'table' or type(r.widen) ~= 'table' then input_error(at, 'must be {size, max, widen}') end
    local rule = { size = check_int(at .. '.size', r.size, 1, 100), window = number(at .. '.max', r.max, 10000), widen = {} }
    for i, step in ipairs(r.widen) do
      if type(step) ~= 'table' then input_error(at .. '.widen', 'steps are [afterSeconds, max]') end
      rule.widen[i] = { number(at .. '.widen.afterSeconds', step[1], 3600) * 1000, number(at .. '.widen.max', step[2], 10000) }
    end
    out[mode] = rule
  end
  return out
end
