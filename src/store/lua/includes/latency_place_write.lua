-- Places a planned group (latency_place_read) in its region, as enqueuePlayers leaves a session that one
-- batch opened and filled: a new `ready` session (members `@<playerId>` = ticketId, `latencyWaitMs` = the
-- wait of the ticket whose max in force the group was formed under, `latencies` = JSON
-- {playerId: ms} of the members that measured it, which assignSessions puts into the match as
-- playerLatencies), each member's fresh record there (state waiting, its `latency`), the region's indexes
-- and counters; in the pool each member's record says `placed` with the region and session (kept for the
-- ticket retention: reads and redeliveries find it) and leaves the pool's indexes. Writes only; returns the
-- session id.
local function latency_place_write(plan, retentionText)
  in_region(plan.region)
  local mode, n = plan.mode, #plan.members
  local seq = redis.call('INCR', P .. 'SessionSeq')
  local sid = REGION .. '.' .. int(seq)
  local fields = { 'mode', mode, 'capacity', int(n), 'size', int(n), 'state', 'ready', 'seq', int(seq), 'createdAt', NOW_TEXT, 'region', REGION,
    'latencyWaitMs', int(math.max(0, plan.waitMs)) }
  local lat, waiting = {}, {}
  for _, x in ipairs(plan.members) do
    local m = x.m
    fields[#fields + 1] = '@' .. x.pid
    fields[#fields + 1] = m.ticketId
    local ms = m.ms[REGION]
    if ms then lat[x.pid] = ms end
    if x.detach then detach_matched(x.pid, x.detach) end
    local pkey = P .. 'Player:' .. x.pid
    if x.existed then redis.call('DEL', pkey) end
    local w = { 'ticketId', m.ticketId, 'mode', mode, 'state', 'waiting', 'session', sid, 'requestedAt', m.atText }
    if ms then
      w[#w + 1] = 'latency'
      w[#w + 1] = int(ms)
    end
    if x.seen then
      w[#w + 1] = 'seen'
      w[#w + 1] = x.seen
    end
    redis.call('HSET', pkey, unpack(w))
    waiting[#waiting + 1] = m.atText
    waiting[#waiting + 1] = x.pid
    local qkey = POOL .. 'Player:' .. x.pid
    if m.pooled then latency_unpool(mode, x.pid, m.order) end
    if m.poolFields then
      if m.poolExisted then redis.call('DEL', qkey) end
      redis.call('HSET', qkey, unpack(m.poolFields))
    end
    redis.call('HSET', qkey, 'state', 'placed', 'region', REGION, 'session', sid)
    redis.call('PEXPIRE', qkey, retentionText)
  end
  if next(lat) then
    fields[#fields + 1] = 'latencies'
    fields[#fields + 1] = cjson.encode(lat)
  end
  redis.call('HSET', P .. 'Session:' .. sid, unpack(fields))
  redis.call('ZADD', P .. 'SessionsReady', int(seq), sid)
  redis.call('HINCRBY', P .. 'ReadyPerMode', mode, 1)
  redis.call('ZADD', P .. 'SessionsCreationTime', NOW_TEXT, sid)
  redis.call('ZADD', P .. 'PlayersTimeStartedMatchmaking', unpack(waiting))
  redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n))
  return sid
end
