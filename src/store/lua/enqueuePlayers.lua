-- Enqueue a batch of player requests of one region, in order, atomically.
-- ARGV[2]: {now, region, retentionMs, modes: {mode: sessionSize}, requests: [{ticketId, playerId, mode, requestedAt}]}
-- Returns JSON {results: [...one per request...], ready: [sessionIds this batch filled]}.
-- Redelivery-safe: Ticket:<ticketId> (kept for the ticket retention) turns any repeat into "duplicate".
--- @include "sessions"

local retention = tonumber(A.retentionMs)
local results = {}
local ready = {}

local function open_session(mode)
  local seq = redis.call('INCR', P .. 'SessionSeq')
  local sid = REGION .. '.' .. seq
  redis.call('HSET', P .. 'Session:' .. sid, 'mode', mode, 'capacity', A.modes[mode], 'size', 0,
    'state', 'open', 'seq', seq, 'createdAt', NOW, 'region', REGION)
  -- Score = per-region sequence number: "oldest open session first" is exact even within one millisecond.
  redis.call('ZADD', P .. 'SessionsPerMatchmaking:' .. mode, seq, sid)
  redis.call('ZADD', P .. 'SessionsCreationTime', NOW, sid)
  return sid
end

local function join(r, cur)
  detach_matched(r.playerId, cur[2], cur[3])
  local openKey = P .. 'SessionsPerMatchmaking:' .. r.mode
  local first = redis.call('ZRANGE', openKey, 0, 0)
  local sid = first[1] or open_session(r.mode)
  local skey = P .. 'Session:' .. sid
  redis.call('SADD', P .. 'SessionPlayers:' .. sid, r.playerId)
  local size = redis.call('HINCRBY', skey, 'size', 1)
  local s = redis.call('HMGET', skey, 'capacity', 'seq')
  local full = size >= tonumber(s[1])
  if full then
    redis.call('HSET', skey, 'state', 'ready')
    redis.call('ZREM', openKey, sid)
    redis.call('ZADD', P .. 'SessionsReady', s[2], sid)
    ready[#ready + 1] = sid
  end
  local pkey = P .. 'Player:' .. r.playerId
  -- A fresh record: nothing of an earlier ticket (server, leftReason, TTL) survives.
  redis.call('DEL', pkey)
  redis.call('HSET', pkey, 'ticketId', r.ticketId, 'mode', r.mode, 'region', REGION, 'state', 'waiting',
    'session', sid, 'requestedAt', r.requestedAt)
  redis.call('ZADD', P .. 'PlayersTimeStartedMatchmaking', r.requestedAt, r.playerId)
  redis.call('SET', P .. 'Ticket:' .. r.ticketId, r.playerId, 'PX', retention)
  redis.call('HINCRBY', P .. 'WaitingPerMode', r.mode, 1)
  return { outcome = 'queued', sessionId = sid, sessionReady = full }
end

for i, r in ipairs(A.requests) do
  local tkey = P .. 'Ticket:' .. r.ticketId
  local owner = redis.call('GET', tkey)
  local cur = redis.call('HMGET', P .. 'Player:' .. r.playerId, 'ticketId', 'state', 'session')
  if owner and owner ~= r.playerId then
    results[i] = { outcome = 'rejected', error = 'ticket_reused',
      detail = 'ticketId ' .. r.ticketId .. ' was already used by another player' }
  elseif owner or (cur[1] == r.ticketId and cur[2] == 'waiting') then
    -- Seen before (redelivery, or the ticket already left / matched / was preempted): nothing changes.
    local res = { outcome = 'duplicate', state = 'unknown' }
    if cur[1] == r.ticketId then
      res.state = cur[2]
      if cur[3] then res.sessionId = cur[3] end
    end
    if not owner then redis.call('SET', tkey, r.playerId, 'PX', retention) end
    results[i] = res
  elseif NOW - tonumber(r.requestedAt) > retention then
    results[i] = { outcome = 'rejected', error = 'ticket_stale',
      detail = 'the request is older than the ticket retention (' .. math.floor(retention / 1000) .. ' s); ask for a new ticket' }
  elseif cur[2] == 'waiting' then
    results[i] = { outcome = 'rejected', error = 'ticket_live',
      detail = 'player ' .. r.playerId .. ' already has a live ticket ' .. cur[1] .. '; cancel it first',
      liveTicketId = cur[1] }
  else
    results[i] = join(r, cur)
  end
end

return cjson.encode({ results = results, ready = ready })
