-- Players leave the queue (timeout, cancel, or the stale sweeper), a batch of one region, atomically.
-- ARGV[2]: {now, region, retentionMs, requests: [{playerId, ticketId, reason, mode?}]}
-- Whichever of leave and assign reaches Redis first wins: a player whose session already has a server
-- is told the assignment ("assigned") and is not removed.
--- @include "sessions"

local retention = tonumber(A.retentionMs)
local results = {}

for i, r in ipairs(A.requests) do
  local pkey = P .. 'Player:' .. r.playerId
  local tkey = P .. 'Ticket:' .. r.ticketId
  local p = hgetall(pkey)
  if p.ticketId == r.ticketId then
    if p.state == 'waiting' then
      local sid = p.session
      player_leave(r.playerId, p, r.reason, retention)
      results[i] = { outcome = 'left', reason = r.reason, sessionId = sid }
    elseif p.state == 'matched' then
      results[i] = { outcome = 'assigned', assignment = player_assignment(r.playerId, p) }
    else
      results[i] = { outcome = 'alreadyLeft', reason = p.leftReason or r.reason }
    end
  else
    local owner = redis.call('GET', tkey)
    if owner then
      -- This ticket was enqueued once; the player has moved on to another ticket since.
      results[i] = { outcome = 'superseded' }
    else
      -- The leave overtook the request (or the ticket never reached us). Record the ticket so that a late
      -- enqueue of it is a no-op ("duplicate") instead of a ghost player nobody waits for.
      redis.call('SET', tkey, r.playerId, 'PX', retention)
      if p.state ~= 'waiting' then
        detach_matched(r.playerId, p.state, p.session)
        redis.call('DEL', pkey)
        redis.call('HSET', pkey, 'ticketId', r.ticketId, 'mode', r.mode or '', 'region', REGION, 'state', 'left',
          'leftReason', r.reason, 'leftAt', NOW, 'requestedAt', 0)
        redis.call('PEXPIRE', pkey, retention)
      end
      results[i] = { outcome = 'preempted', reason = r.reason }
    end
  end
end

return cjson.encode({ results = results })
