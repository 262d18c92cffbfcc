--- @include "sessions"
-- Server registry. Servers hash: serverId -> JSON {address, state (available|allocated), sessionId,
-- registeredAt, lastHeartbeat, leaseExpiresAt, gamesServed}. ServersAvailable zset: serverId -> the time
-- it became free (lowest = idle longest, taken first). ServerLeases zset: serverId -> lease expiry.
-- Invariant: every server in Servers is either in ServersAvailable (state available) or allocated to
-- exactly one existing assigned session whose `server` field points back to it.

local function get_server(id)
  local raw = redis.call('HGET', P .. 'Servers', id)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- Writes a server's record and its lease (rec.leaseExpiresAt); `available`: it is free from now on
-- (enters ServersAvailable at the back of the idle order).
local function save_server(id, rec, available)
  redis.call('HSET', P .. 'Servers', id, cjson.encode(rec))
  if available then redis.call('ZADD', P .. 'ServersAvailable', NOW, id) end
  redis.call('ZADD', P .. 'ServerLeases', rec.leaseExpiresAt, id)
end

-- Removes servers from the registry: three calls for the whole list.
local function remove_servers(ids)
  call_chunked('HDEL', P .. 'Servers', ids)
  call_chunked('ZREM', P .. 'ServersAvailable', ids)
  call_chunked('ZREM', P .. 'ServerLeases', ids)
end

local function server_view(id, rec)
  rec.serverId = id
  return rec
end

-- The game of an allocated server is over: its session is deleted. Its players keep their matched
-- records (with server and address) until the ticket retention ends.
local function end_session(sid)
  local mode = redis.call('HGET', P .. 'Session:' .. sid, 'mode')
  delete_session(sid, mode or nil)
end

-- An allocated server went silent (lease ran out): its session goes back to the FRONT of the ready
-- queue - same sessionId, same players - so the next free server takes the same group and a new
-- match-made is published for it. Its players are "waiting" again (re-added to
-- PlayersTimeStartedMatchmaking with their original request time); SessionsCreationTime is re-scored to
-- now so the stale-session sweeper gives the group a fresh allowance; the session leaves the outbox.
-- A player who has moved on since the match (a newer ticket, or the record expired) is dropped from the
-- group; if that leaves the session short it becomes open again (original seq), if empty it is deleted.
-- Returns true when the session was requeued (ready or open), false when it was deleted or missing.
local function requeue_session(sid)
  local skey = P .. 'Session:' .. sid
  local s = redis.call('HMGET', skey, 'mode', 'capacity', 'seq')
  if not s[1] then return false end
  local mode, capacity, seq = s[1], tonumber(s[2]), tonumber(s[3])
  local spkey = P .. 'SessionPlayers:' .. sid
  local members = redis.call('SMEMBERS', spkey)
  for _, pid in ipairs(members) do
    local pkey = P .. 'Player:' .. pid
    local p = redis.call('HMGET', pkey, 'state', 'session', 'requestedAt')
    if p[1] == 'matched' and p[2] == sid then
      redis.call('HSET', pkey, 'state', 'waiting')
      redis.call('HDEL', pkey, 'server', 'address', 'assignedAt')
      redis.call('PERSIST', pkey)
      redis.call('ZADD', P .. 'PlayersTimeStartedMatchmaking', p[3], pid)
      redis.call('HINCRBY', P .. 'WaitingPerMode', mode, 1)
    else
      redis.call('SREM', spkey, pid)
    end
  end
  local size = redis.call('SCARD', spkey)
  redis.call('HDEL', skey, 'server', 'address', 'assignedAt', 'assignment')
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
  if size == 0 then
    delete_session(sid, mode)
    return false
  end
  redis.call('HSET', skey, 'size', size)
  redis.call('ZADD', P .. 'SessionsCreationTime', NOW, sid)
  if size >= capacity then
    -- Front of the queue: below the lowest score present (assign takes the lowest first).
    local first = redis.call('ZRANGE', P .. 'SessionsReady', 0, 0, 'WITHSCORES')
    local score = seq
    if #first == 2 and tonumber(first[2]) <= score then score = tonumber(first[2]) - 1 end
    redis.call('HSET', skey, 'state', 'ready')
    if redis.call('ZADD', P .. 'SessionsReady', score, sid) == 1 then ready_count(mode, 1) end
  else
    redis.call('HSET', skey, 'state', 'open')
    redis.call('ZADD', P .. 'SessionsPerMatchmaking:' .. mode, seq, sid)
  end
  return true
end
