-- MATCHING POLICY (see src/store/MATCHING_POLICY.md): which open session a joining player of a plain FIFO
-- `mode` gets. The oldest open session of the mode (lowest seq in SessionsPerMatchmaking:<mode>) that this
-- batch has not filled already (`skip`: sid -> true, `nskip` of them; enqueuePlayers writes last, so the
-- sessions it filled are still in the index), or nil when there is none (the caller opens a new one,
-- capacity = the mode's size now). Reads only. Rules modes (skill, teams, parties) choose in
-- policy_rules_session.lua.
local function policy_open_session(mode, skip, nskip)
  local ids = redis.call('ZRANGE', P .. 'SessionsPerMatchmaking:' .. mode, '0', int(nskip))
  for _, sid in ipairs(ids) do
    if not skip[sid] then return sid end
  end
  return nil
end
