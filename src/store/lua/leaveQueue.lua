-- leaveQueue: players leave the queue (timeout, cancel, or the stale sweeper), a batch of one region, atomically.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, requests: [{playerId, ticketId, reason, mode?, requestedAt?}]}
-- Reply     JSON {results: [one per request, in order: {outcome: "left", reason, sessionId?}
--           | {outcome: "assigned", assignment} | {outcome: "alreadyLeft", reason} | {outcome: "superseded"}
--           | {outcome: "preempted", reason}]}
-- Whichever of leave and assign reaches Redis first wins: a player whose session already has a server
-- is told the assignment ("assigned") and is not removed.
-- requestedAt (epoch ms as text, the ticket's own, from its token) tells a ticket whose redelivery guard has
-- expired apart from one that was never enqueued: if the player's record is of a LATER request, this ticket
-- is old ("superseded") and must never touch the newer one.
--- @include "prologue"
--- @include "check_list"
--- @include "hgetall"
--- @include "player_leave"
--- @include "detach_matched"
--- @include "player_assignment"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local results = {}
-- All input is checked before the first write (Redis does not roll back a script that fails halfway).
local REASONS = { timedOut = true, cancelled = true, expired = true }
check_list('requests', A.requests, 500)
for _, r in ipairs(A.requests) do
  if type(r) ~= 'table' then input_error('requests', 'entries must be objects') end
  check_text('playerId', r.playerId, '^[A-Za-z0-9_-]+$', 64)
  check_text('ticketId', r.ticketId, '^[A-Za-z0-9_-]+$', 64)
  if type(r.reason) ~= 'string' or REASONS[r.reason] ~= true then input_error('reason', 'must be timedOut, cancelled or expired') end
  if r.mode ~= nil then check_text('mode', r.mode, '^[a-z0-9][a-z0-9_-]*$', 32) end
  if r.requestedAt ~= nil then r.requestedAt = check_int('requestedAt', r.requestedAt, 1, 2 ^ 53) end
end

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
    local newer = r.requestedAt ~= nil and tonumber(p.requestedAt or '0') > r.requestedAt
    if owner or newer then
      -- This ticket was enqueued once (its guard may have expired since); the player has moved on to another ticket.
      results[i] = { outcome = 'superseded' }
    else
      -- The leave overtook the request (or the ticket never reached us). Record the ticket so that a late
      -- enqueue of it is a no-op ("duplicate") instead of a ghost player nobody waits for.
      redis.call('SET', tkey, r.playerId, 'PX', retention)
      if p.state ~= 'waiting' then
        detach_matched(r.playerId, p.state, p.session)
        redis.call('DEL', pkey)
        redis.call('HSET', pkey, 'ticketId', r.ticketId, 'mode', r.mode or '', 'region', REGION, 'state', 'left',
          'leftReason', r.reason, 'leftAt', NOW, 'requestedAt', int(r.requestedAt or 0))
        redis.call('PEXPIRE', pkey, retention)
      end
      results[i] = { outcome = 'preempted', reason = r.reason }
    end
  end
end

return cjson.encode({ results = results })
