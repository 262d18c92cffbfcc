-- Give ready sessions (oldest first) to available servers (idle longest first) of one region, atomically.
-- ARGV[2]: {now, region, retentionMs, max}
-- Each server goes to at most one session: it leaves ServersAvailable in the same step it is allocated.
-- An available server whose lease ran out is removed on the way (it is dead; expireServers would do the same).
-- Assigned sessions enter the outbox SessionsAnnouncing until confirmAnnounced (match-made was sent).
--- @include "servers"

local retention = tonumber(A.retentionMs)
local max = tonumber(A.max)
local assigned = {}

local function next_server()
  while true do
    local s = redis.call('ZRANGE', P .. 'ServersAvailable', 0, 0)
    if #s == 0 then return nil end
    local lease = tonumber(redis.call('ZSCORE', P .. 'ServerLeases', s[1]))
    if lease and lease > NOW then return s[1] end
    remove_server(s[1])
  end
end

local function session_players(sid)
  local members = redis.call('SMEMBERS', P .. 'SessionPlayers:' .. sid)
  table.sort(members)
  local out = {}
  for i, pid in ipairs(members) do
    out[i] = { playerId = pid, ticketId = redis.call('HGET', P .. 'Player:' .. pid, 'ticketId') or '' }
  end
  return out
end

local readyList = redis.call('ZRANGE', P .. 'SessionsReady', 0, max - 1)
for _, sid in ipairs(readyList) do
  local serverId = next_server()
  if not serverId then break end
  local rec = get_server(serverId)
  local skey = P .. 'Session:' .. sid
  local mode = redis.call('HGET', skey, 'mode')
  local players = session_players(sid)
  local assignment = { sessionId = sid, serverId = serverId, address = rec.address, players = players,
    mode = mode, region = REGION, assignedAt = NOW }
  redis.call('HSET', skey, 'state', 'assigned', 'server', serverId, 'address', rec.address,
    'assignedAt', NOW, 'assignment', cjson.encode(assignment))
  redis.call('ZREM', P .. 'SessionsReady', sid)
  redis.call('ZREM', P .. 'SessionsCreationTime', sid)
  redis.call('ZADD', P .. 'SessionsAnnouncing', NOW, sid)
  rec.state = 'allocated'
  rec.sessionId = sid
  put_server(serverId, rec)
  redis.call('ZREM', P .. 'ServersAvailable', serverId)
  for _, pl in ipairs(players) do
    local pkey = P .. 'Player:' .. pl.playerId
    local requestedAt = tonumber(redis.call('HGET', pkey, 'requestedAt')) or NOW
    redis.call('HSET', pkey, 'state', 'matched', 'server', serverId, 'address', rec.address, 'assignedAt', NOW)
    redis.call('PEXPIRE', pkey, retention)
    redis.call('ZREM', P .. 'PlayersTimeStartedMatchmaking', pl.playerId)
    redis.call('HINCRBY', P .. 'WaitingPerMode', mode, -1)
    redis.call('LPUSH', P .. 'MatchTimes', math.max(0, NOW - requestedAt))
  end
  assigned[#assigned + 1] = assignment
end
if #assigned > 0 then redis.call('LTRIM', P .. 'MatchTimes', 0, 999) end

local remaining = redis.call('ZRANGE', P .. 'SessionsReady', 0, -1)
local byMode = {}
for _, sid in ipairs(remaining) do
  local mode = redis.call('HGET', P .. 'Session:' .. sid, 'mode') or 'unknown'
  byMode[mode] = (byMode[mode] or 0) + 1
end

return cjson.encode({ assigned = assigned, unassigned = #remaining, unassignedByMode = byMode,
  serversAvailable = redis.call('ZCARD', P .. 'ServersAvailable') })
