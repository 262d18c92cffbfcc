-- assignSessions: ready sessions (oldest first) get available servers (idle longest first), atomically.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, max, claimMs}
-- Reply     JSON {assigned: [assignment], unassigned, unassignedByMode: {mode: n}, serversAvailable}
--           assignment = {sessionId, serverId, address, players: [{playerId, ticketId}], mode, region, assignedAt}
-- Each server goes to at most one session: it leaves ServersAvailable in the same step it is allocated.
-- An available server whose lease ran out is skipped (expireServers retires it, and has the global server
-- index forget it); at most DEAD_SCAN_MAX of them are looked at per call, so a pool full of dead servers
-- cannot make a call long. Each allocated server gets a claim window (claimExpiresAt = now + claimMs,
-- ServerClaims): it must confirm the session (heartbeat or ack) before then, or expireServers requeues it.
-- Assigned sessions enter the outbox SessionsAnnouncing until confirmAnnounced (match-made was sent).
--
-- Hot path (called in a loop while sessions wait): per player it reads ticketId + requestedAt in one HMGET
-- and writes the record and its TTL; everything shared by the whole call (index removals, counters, server
-- records, time-to-match samples) is written once with all members. The reply reuses the assignment JSON
-- that is stored on the session instead of encoding every assignment a second time.
--- @include "prologue"
--- @include "call_chunked"
--- @include "assignment_payload"
--- @include "ready_count"

local retentionText = int(check_int('retentionMs', A.retentionMs, 1, 2 ^ 40))
local max = check_int('max', A.max, 1, 100000)
local claimMs = check_int('claimMs', A.claimMs, 1, 2 ^ 40)
local claimText = int(NOW + claimMs)
local DEAD_SCAN_MAX = 1000

local readyList = redis.call('ZRANGE', P .. 'SessionsReady', 0, max - 1)

-- Servers for them, in ServersAvailable order, `want` candidates at a time: each candidate is either live
-- (it takes the next session) or dead (lease ran out: removed), so exactly the servers a one-by-one scan
-- would look at are looked at. Nothing leaves ServersAvailable until the scan is over, so ranks stay put.
local picked, dead = {}, 0
local offset = 0
while #picked < #readyList and dead < DEAD_SCAN_MAX do
  local want = math.min(#readyList - #picked, CHUNK)
  local candidates = redis.call('ZRANGE', P .. 'ServersAvailable', offset, offset + want - 1)
  if #candidates == 0 then break end
  offset = offset + #candidates
  local leases = redis.call('ZMSCORE', P .. 'ServerLeases', unpack(candidates))
  for i, id in ipairs(candidates) do
    local lease = tonumber(leases[i])
    if lease and lease > NOW then picked[#picked + 1] = id else dead = dead + 1 end
  end
end

-- The assignment as stored on the session and returned (JSON).
local function assignment_json(sid, serverId, address, mode, members, tickets)
  local players = {}
  for j = 1, #members do players[j] = { playerId = members[j], ticketId = tickets[j] } end
  return cjson.encode(assignment_payload(sid, serverId, address, players, mode, NOW))
end

-- An available server's record (JSON) allocated to sid, with its claim window, and its address.
local function allocated_record(json, sid)
  local rec = cjson.decode(json)
  rec.state = 'allocated'
  rec.sessionId = sid
  rec.claimExpiresAt = NOW + claimMs
  rec.confirmedAt = nil
  return cjson.encode(rec), rec.address
end

local serverRecs = call_chunked('HMGET', P .. 'Servers', picked)
local encoded = {}
local sids, announcePairs, serverPairs, claimPairs, pids, matchTimes = {}, {}, {}, {}, {}, {}
local sessionsPerMode, playersPerMode = {}, {}

for i, serverId in ipairs(picked) do
  local sid = readyList[i]
  local record, address = allocated_record(serverRecs[i], sid)
  local skey = P .. 'Session:' .. sid
  local mode = redis.call('HGET', skey, 'mode')
  local members = redis.call('SMEMBERS', P .. 'SessionPlayers:' .. sid)
  table.sort(members)
  local tickets, pkeys = {}, {}
  for j, pid in ipairs(members) do
    local pkey = P .. 'Player:' .. pid
    local p = redis.call('HMGET', pkey, 'ticketId', 'requestedAt', 'requeuedAt')
    tickets[j] = p[1] or ''
    pkeys[j] = pkey
    -- LPUSH of many values pushes them in order, exactly like one LPUSH per player. A requeued group's
    -- wait counts from its requeue (its first match is already in the samples).
    matchTimes[#matchTimes + 1] = int(math.max(0, NOW - (tonumber(p[3]) or tonumber(p[2]) or NOW)))
  end
  local json = assignment_json(sid, serverId, address, mode, members, tickets)
  encoded[#encoded + 1] = json
  redis.call('HSET', skey, 'state', 'assigned', 'server', serverId, 'address', address,
    'assignedAt', NOW_TEXT, 'assignment', json)
  sids[#sids + 1] = sid
  announcePairs[#announcePairs + 1] = NOW_TEXT
  announcePairs[#announcePairs + 1] = sid
  serverPairs[#serverPairs + 1] = serverId
  serverPairs[#serverPairs + 1] = record
  claimPairs[#claimPairs + 1] = claimText
  claimPairs[#claimPairs + 1] = serverId
  for j, pkey in ipairs(pkeys) do
    redis.call('HSET', pkey, 'state', 'matched', 'server', serverId, 'address', address, 'assignedAt', NOW_TEXT)
    redis.call('PEXPIRE', pkey, retentionText)
    pids[#pids + 1] = members[j]
  end
  sessionsPerMode[mode] = (sessionsPerMode[mode] or 0) + 1
  playersPerMode[mode] = (playersPerMode[mode] or 0) + #members
end

if #sids > 0 then
  call_chunked('ZREM', P .. 'SessionsReady', sids)
  call_chunked('ZREM', P .. 'SessionsCreationTime', sids)
  call_chunked('ZADD', P .. 'SessionsAnnouncing', announcePairs)
  call_chunked('HSET', P .. 'Servers', serverPairs)
  call_chunked('ZREM', P .. 'ServersAvailable', picked)
  call_chunked('ZADD', P .. 'ServerClaims', claimPairs)
  call_chunked('ZREM', P .. 'PlayersTimeStartedMatchmaking', pids)
  call_chunked('LPUSH', P .. 'MatchTimes', matchTimes)
  redis.call('LTRIM', P .. 'MatchTimes', 0, 999)
  for mode, n in pairs(sessionsPerMode) do ready_count(mode, int(-n)) end
  for mode, n in pairs(playersPerMode) do redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(-n)) end
end

-- Sessions still waiting for a server, by mode (kept in ReadyPerMode: no scan of the backlog).
local byMode = {}
local counts = redis.call('HGETALL', P .. 'ReadyPerMode')
for i = 1, #counts, 2 do
  local n = tonumber(counts[i + 1])
  if n > 0 then byMode[counts[i]] = n end
end

return '{"assigned":[' .. table.concat(encoded, ',') .. '],"unassigned":' .. redis.call('ZCARD', P .. 'SessionsReady') ..
  ',"unassignedByMode":' .. cjson.encode(byMode) .. ',"serversAvailable":' .. redis.call('ZCARD', P .. 'ServersAvailable') .. '}'
