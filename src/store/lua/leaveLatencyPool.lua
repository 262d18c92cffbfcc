-- leaveLatencyPool: tickets leave a latency pool (timeout, cancel, expiry; issue 14), atomically.
-- KEYS[1]   the slot's routing key
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, requests: [{playerId, ticketId, reason}]}
-- Reply     JSON {results: [one per request: {outcome: "left", mode} | {outcome: "alreadyLeft", reason}
--           | {outcome: "placed", region} | {outcome: "notPooled"}]}
-- A pooled ticket leaves the pool (its record says left, kept for the ticket retention). A ticket the pool
-- placed in a region is answered `placed` with the region: it leaves there (leaveQueue), since once placed
-- a ticket never comes back to the pool. A ticket the pool does not hold is `notPooled` and nothing is
-- written: the store hands it to leaveQueue of its home region, which records a leave that overtook its
-- request (poolLatencyTickets counts that record as seen). Checks all input, then writes.
--- @include "latency_prologue"
--- @include "latency_parse"
--- @include "latency_unpool"

local retentionText = int(check_int('retentionMs', A.retentionMs, 1, 2 ^ 40))
local REASONS = { timedOut = true, cancelled = true, expired = true }
if type(A.requests) ~= 'table' or #A.requests < 1 or #A.requests > 100 then input_error('requests', 'must hold 1-100 requests') end
for _, q in ipairs(A.requests) do
  if type(q) ~= 'table' then input_error('requests', 'must be objects {playerId, ticketId, reason}') end
  check_text('playerId', q.playerId, '^[A-Za-z0-9_-]+$', 64)
  check_text('ticketId', q.ticketId, '^[A-Za-z0-9_-]+$', 64)
  if not REASONS[q.reason] then input_error('reason', 'must be timedOut, cancelled or expired') end
end

local results = {}
for i, q in ipairs(A.requests) do
  local key = POOL .. 'Player:' .. q.playerId
  local h = redis.call('HMGET', key, 'ticketId', 'state', 'mode', 'lat', 'region', 'leftReason')
  if h[1] ~= q.ticketId then
    results[i] = '{"outcome":"notPooled"}'
  elseif h[2] == 'waiting' then
    local _, order = latency_parse(h[4] or nil)
    latency_unpool(h[3], q.playerId, order)
    redis.call('HSET', key, 'state', 'left', 'leftReason', q.reason, 'leftAt', NOW_TEXT)
    redis.call('PEXPIRE', key, retentionText)
    results[i] = cjson.encode({ outcome = 'left', mode = h[3] })
  elseif h[2] == 'placed' then
    results[i] = cjson.encode({ outcome = 'placed', region = h[5] })
  else
    results[i] = cjson.encode({ outcome = 'alreadyLeft', reason = h[6] or q.reason })
  end
end
return '{"results":[' .. table.concat(results, ',') .. ']}'
