--- @include "delete_session"
--- @include "session_members"
--- @include "keep_match"
--- @include "end_backfill"
-- The game of an allocated server is over: its session is deleted. Its players' records (which read
-- matched: includes/player_state.lua) and Match:<sid> are kept until the ticket retention ends.
local function end_session(sid)
  local members, _, h = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
  keep_match(sid, h, members, nil)
  delete_session(sid, h.mode)
  end_backfill(sid) -- backfill hook (issue 14): the game is over, so is its request for players
end
