-- A player record's state as its ticket shows it. Only `left` is stored (a record without `state` has a
-- ticket in a session): assignSessions writes nothing per player, so a record in an open or ready session is
-- `waiting`, and `matched` once its session is assigned, or gone (the game ended; Match:<sid> keeps the
-- assignment for the ticket retention). `sessionState` is the state of p.session when the caller has read
-- it (nil: read here).
local function player_state(p, sessionState)
  if p.state and p.state ~= 'waiting' then return p.state end
  if not p.session then return p.state end
  local s = sessionState or redis.call('HGET', P .. 'Session:' .. p.session, 'state')
  if s == 'open' or s == 'ready' then return 'waiting' end
  return 'matched'
end
