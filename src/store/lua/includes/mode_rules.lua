--- @include "input_error"
--- @include "check_int"
-- The modes argument of the matching scripts, checked and normalized. A number is a plain FIFO mode of
-- that session size (solo tickets, one team). An object is a rule set (src/domain/modeRules.ts, as the
-- store sends it): {size, teams, teamSize, maxPartySize, skill?: {window, widen: [{afterSeconds, window}]}}.
-- Returns mode -> {size, teams, teamSize, maxParty, plain, skill?: {window, widen = {{afterMs, window}...}}}.
-- `plain` modes take the FIFO fast path of enqueuePlayers; the others the rules path.
local function mode_rules(modes)
  local function skill_number(field, v)
    if type(v) ~= 'number' or v ~= v or v < 0 or v > 2e9 then input_error(field, 'must be a number in [0, 2e9]') end
    return v
  end
  if type(modes) ~= 'table' then input_error('modes', 'must be an object {mode: sessionSize | rules}') end
  local out = {}
  for name, spec in pairs(modes) do
    if type(name) ~= 'string' or not string.find(name, '^[a-z0-9][a-z0-9_-]*$') or #name > 32 then input_error('modes', 'mode names must match ^[a-z0-9][a-z0-9_-]*$') end
    if type(spec) ~= 'table' then
      local size = check_int('modes.' .. name, spec, 1, 10000)
      out[name] = { size = size, teams = 1, teamSize = size, maxParty = 1, plain = true }
    else
      local f = 'modes.' .. name
      local size = check_int(f .. '.size', spec.size, 1, 10000)
      local teams = check_int(f .. '.teams', spec.teams, 1, 100)
      local teamSize = check_int(f .. '.teamSize', spec.teamSize, 1, 10000)
      local maxParty = check_int(f .. '.maxPartySize', spec.maxPartySize, 1, 100)
      if teams * teamSize ~= size then input_error(f .. '.size', 'must be teams x teamSize') end
      if maxParty > teamSize then input_error(f .. '.maxPartySize', 'must be at most teamSize') end
      local r = { size = size, teams = teams, teamSize = teamSize, maxParty = maxParty }
      if spec.skill ~= nil then
        local s = spec.skill
        if type(s) ~= 'table' then input_error(f .. '.skill', 'must be an object {window, widen}') end
        local widen = {}
        if s.widen ~= nil then
          if type(s.widen) ~= 'table' or #s.widen > 20 then input_error(f .. '.skill.widen', 'must be an array of at most 20 steps') end
          local last = -1
          for i, step in ipairs(s.widen) do
            if type(step) ~= 'table' then input_error(f .. '.skill.widen', 'steps must be objects {afterSeconds, window}') end
            local after = skill_number(f .. '.skill.widen.afterSeconds', step.afterSeconds)
            if after <= last then input_error(f .. '.skill.widen', 'afterSeconds must ascend') end
            last = after
            widen[i] = { after * 1000, skill_number(f .. '.skill.widen.window', step.window) }
          end
        end
        r.skill = { window = skill_number(f .. '.skill.window', s.window), widen = widen }
      end
      -- A rules object without skill, teams or parties is still FIFO: the fast path gives the same result.
      r.plain = r.skill == nil and teams == 1 and maxParty == 1
      out[name] = r
    end
  end
  return out
end

