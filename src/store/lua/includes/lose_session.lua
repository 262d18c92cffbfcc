--- @include "delete_session"
--- @include "session_members"
--- @include "keep_match"
--- @include "end_backfill"
-- The server of a confirmed game died: the game is over and the session is deleted. Its players' records
-- and Match:<sid> are kept until the ticket retention ends, Match:<sid> marked `lostAt`: the ticket
-- endpoint shows status serverLost. They are not queued again: they were playing, and whether to play on
-- is theirs to decide (a new ticket). Returns how many players it touched (the caller's work budget).
local function lose_session(sid)
  local members, _, h = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
  keep_match(sid, h, members, NOW)
  delete_session(sid, h.mode)
  end_backfill(sid) -- backfill hook (issue 14): the game is over, so is its request for players
  return #members
end
