-- Places a planned group (latency_place_read) in its region, as enqueuePlayers leaves a session that one
-- batch opened and filled: a new `ready` session (members `@<playerId>` = "<ticketId> <requestedAt>", its
-- SessionsWaitingSince score the earliest of them, `latencyWaitMs` = the
-- wait of the ticket whose max in force the group was formed under, `latencies` = JSON
-- {playerId: ms} of the members that measured it, which assignSessions puts into the match as
-- playerLatencies), each member's fresh record there (state waiting, its `latency`), the region's indexes
-- and counters; in the pool each member's record says `placed` with the region and session (kept for the
-- ticket retention: reads and redeliveries find it) and leaves the pool's indexes. A plan that completes a
-- reopened session (plan.existing, includes/latency_reopened.lua) adds its members to that session instead,
-- which becomes ready (`latencyFilledAt` = now). Writes only; returns the session id.
local function latency_place_write(plan, retentionText)
  in_region(plan.region)
  local mode, n, old = plan.mode, #plan.members, plan.existing
  local seq, sid, fields
  local lat, earliest = {}, nil
  if old then
    seq, sid = old.seq, old.sid
    -- Every member was placed within the max of its own placement's wait: the larger of the two holds for all.
    fields = { 'size', int(old.size + n), 'state', 'ready', 'latencyWaitMs', int(math.max(0, plan.waitMs, old.waitMs or 0)), 'latencyFilledAt', NOW_TEXT }
    if old.latencies then lat = cjson.decode(old.latencies) end
  else
    seq = redis.call('INCR', P .. 'SessionSeq')
    sid = REGION .. '.' .. int(seq)
    fields = { 'mode', mode, 'capacity', int(n), 'size', int(n), 'state', 'ready', 'seq', int(seq), 'createdAt', NOW_TEXT,
      'latencyWaitMs', int(math.max(0, plan.waitMs)) }
  end
  for _, x in ipairs(plan.members) do
    local m = x.m
    fields[#fields + 1] = '@' .. x.pid
    fields[#fields + 1] = m.ticketId .. ' ' .. m.atText
    if earliest == nil or tonumber(m.atText) < earliest then earliest = tonumber(m.atText) end
    local ms = m.ms[REGION]
    if ms then lat[x.pid] = ms end
    if x.detach then detach_matched(x.pid, x.detach) end
    local pkey = P .. 'Player:' .. x.pid
    if x.existed then redis.call('DEL', pkey) end
    local w = { 'ticketId', m.ticketId, 'mode', mode, 'session', sid, 'requestedAt', m.atText }
    if ms then
      w[#w + 1] = 'latency'
      w[#w + 1] = int(ms)
    end
    if x.seen then
      w[#w + 1] = 'seen'
      w[#w + 1] = x.seen
    end
    redis.call('HSET', pkey, unpack(w))
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
  if old then redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid) else redis.call('ZADD', P .. 'SessionsCreationTime', NOW_TEXT, sid) end
  redis.call('ZADD', P .. 'SessionsWaitingSince', 'LT', int(earliest), sid)
  redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n))
  return sid
end
