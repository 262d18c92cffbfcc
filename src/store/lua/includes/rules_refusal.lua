-- The refusals of a request under its mode's rules that need no state (the store refuses them before the
-- call; here as the backstop): a party larger than the mode allows, a player listed twice, a skill mode's
-- player without skill. r = {playerId, mode, skill, members = {ids}, memberSkills = {skills}}; `rule` as
-- includes/mode_rules.lua makes it. Returns the rejected result, or nil.
local function rules_refusal(rule, r)
  local n = #r.members
  if n == 0 and not rule.skill then return nil end
  if n + 1 > rule.maxParty then
    return { outcome = 'rejected', error = 'party_too_large',
      detail = 'a party of ' .. (n + 1) .. ' is larger than the mode allows (' .. rule.maxParty .. ')' }
  end
  local seen = { [r.playerId] = true }
  for _, m in ipairs(r.members) do
    if seen[m] then
      return { outcome = 'rejected', error = 'party_duplicate_member', detail = 'player ' .. m .. ' is listed twice in the party (the leader counts)' }
    end
    seen[m] = true
  end
  if rule.skill then
    local missing = r.skill == nil and r.playerId or nil
    for j, m in ipairs(r.members) do
      if missing == nil and r.memberSkills[j] == nil then missing = m end
    end
    if missing then
      return { outcome = 'rejected', error = 'skill_required', detail = 'mode ' .. r.mode .. ' matches by skill: player ' .. missing .. ' has no skill' }
    end
  end
  return nil
end
