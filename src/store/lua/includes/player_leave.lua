--- @include "remove_from_session"
-- Marks a waiting player as left and frees its slot. The caller has checked that state == waiting.
-- The record is kept for the ticket retention so the ticket endpoint and redeliveries see the outcome.
local function player_leave(pid, p, reason, retention)
  local pkey = P .. 'Player:' .. pid
  local deleted = false
  if p.session then deleted = remove_from_session(p.session, pid) end
  redis.call('HSET', pkey, 'state', 'left', 'leftReason', reason, 'leftAt', NOW)
  redis.call('HDEL', pkey, 'session')
  redis.call('PEXPIRE', pkey, retention)
  redis.call('ZREM', P .. 'PlayersTimeStartedMatchmaking', pid)
  if p.mode and p.mode ~= '' then redis.call('HINCRBY', P .. 'WaitingPerMode', p.mode, -1) end
  return deleted
end
