-- leaveLatencyPool: tickets leave a latency pool (timeout, cancel, expiry; issue 14), atomically.
-- KEYS[1]   the slot's routing key
-- ARGV[1]   pool prefix "<prefix>:{<tag>}:Latency:"
-- ARGV[2]   JSON {now, regions: [[region, prefix], ...], retentionMs, requests: [{playerId, ticketId, reason}]}
-- Reply     JSON {results: [one per request: {outcome: "left", mode, partyMembers?} | {outcome: "alreadyLeft", reason}
--           | {outcome: "placed", region} | {outcome: "notPooled"}]}
-- A pooled ticket leaves the pool (its record says left, kept for the ticket retention). A party leaves
-- whole, whichever member asks (as leaveQueue does): its unit leaves the indexes, every member's record
-- says left, and `partyMembers` names the others. A ticket the pool
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
  local h = redis.call('HMGET', key, 'ticketId', 'state', 'mode', 'lat', 'region', 'leftReason', 'party')
  if h[1] ~= q.ticketId then
    results[i] = '{"outcome":"notPooled"}'
  elseif h[2] == 'waiting' then
    local pids = {}
    for m in string.gmatch(h[7] or q.playerId, '[^,]+') do pids[#pids + 1] = m end
    -- The unit's latencies are on its leader's record (the first of the party).
    local lat = pids[1] == q.playerId and h[4] or redis.call('HGET', POOL .. 'Player:' .. pids[1], 'lat')
    local _, order = latency_parse(lat or nil)
    latency_unpool(h[3], pids[1], order, #pids)
    local others = {}
    for _, pid in ipairs(pids) do
      local mkey = POOL .. 'Player:' .. pid
      if pid == q.playerId or redis.call('HGET', mkey, 'ticketId') == q.ticketId then
        redis.call('HSET', mkey, 'state', 'left', 'leftReason', q.reason, 'leftAt', NOW_TEXT)
        redis.call('PEXPIRE', mkey, retentionText)
        if pid ~= q.playerId then others[#others + 1] = pid end
      end
    end
    local res = { outcome = 'left', mode = h[3] }
    if #others > 0 then res.partyMembers = others end
    results[i] = cjson.encode(res)
  elseif h[2] == 'placed' then
    results[i] = cjson.encode({ outcome = 'placed', region = h[5] })
  else
    results[i] = cjson.encode({ outcome = 'alreadyLeft', reason = h[6] or q.reason })
  end
end
return '{"results":[' .. table.concat(results, ',') .. ']}'
