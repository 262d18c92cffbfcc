-- The assignment of a matched session as assignSessions gave it out (kept in Match:<sid>: while the game
-- runs without a TTL, then for the ticket retention), or nil; and, when its confirmed server died, the
-- time it did (Match:<sid> carries it as `lostAt` beside the payload).
local function session_assignment(sid)
  local json = redis.call('GET', P .. 'Match:' .. sid)
  if not json then return nil end
  local a = cjson.decode(json)
  local lost = a.lostAt
  a.lostAt = nil
  return a, lost
end
