-- assignSessions: ready sessions (oldest first) get available servers (idle longest first), atomically.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, max (sessions), maxPlayers (players in the sessions assigned), claimMs}
-- Reply     JSON {assigned: [assignment], unassigned, unassignedByMode: {mode: n}, serversAvailable, more}
--           assignment = {sessionId, serverId, address, players: [{playerId, ticketId}], mode, region, assignedAt}
--           more = true: stopped by max/maxPlayers while sessions and servers were left (call again)
-- Which sessions go first is the matching policy (includes/policy_ready_order.lua).
-- Each server goes to at most one session: it leaves ServersAvailable in the same step it is allocated.
-- An available server whose lease ran out is skipped (expireServers retires it, and has the global server
-- index forget it); at most DEAD_SCAN_MAX of them are looked at per call, so a pool full of dead servers
-- cannot make a call long. Each allocated server gets a claim window (claimExpiresAt = now + claimMs,
-- ServerClaims): it must confirm the session (heartbeat or ack) before then, or expireServers requeues it.
-- Assigned sessions enter the outbox SessionsAnnouncing until confirmAnnounced (match-made was sent).
--
-- Work per call is capped by maxPlayers (the caller loops while `more`), so no call blocks Redis for long.
-- All reads and computations come first, all writes last (a failure can only happen before the first
-- write; Redis does not roll back). Nothing is read or written per player: a session's one HGETALL gives
-- its members (fields `@<playerId>` = "<ticketId> <waitStart>"), and a player's record stays as enqueue wrote it (its
-- state reads `matched` because its session is assigned: includes/player_state.lua). Everything shared by
-- the whole call (index removals, counters, server records, time-to-match samples) is written once with all
-- members. Match:<sid> holds the assignment (no TTL while the game runs:
-- the session ends it, then it is kept for the ticket retention), so a player's ticket shows the match also
-- after the game ended; the reply reuses its JSON.
--- @include "prologue"
--- @include "call_chunked"
--- @include "assignment_payload"
--- @include "ready_count"
--- @include "policy_ready_order"
--- @include "count_band"
--- @include "session_members"

local retentionText = int(check_int('retentionMs', A.retentionMs, 1, 2 ^ 40))
local max = check_int('max', A.max, 1, 100000)
local maxPlayers = check_int('maxPlayers', A.maxPlayers, 1, 100000)
local claimMs = check_int('claimMs', A.claimMs, 1, 2 ^ 40)
local claimText = int(NOW + claimMs)
local DEAD_SCAN_MAX = 1000

-- ---------------------------------------------------------------- reads and computations
-- Sessions to serve, in policy order, as many as fit into maxPlayers (at least one, however big).
local candidatesReady = policy_ready_order(math.min(max, maxPlayers) + 1)
local readyList, readyModes, playersTaken = {}, {}, 0
local budgetHit = false
for _, sid in ipairs(candidatesReady) do
  if #readyList >= max then budgetHit = true break end
  local h = redis.call('HMGET', P .. 'Session:' .. sid, 'mode', 'size')
  local size = tonumber(h[2]) or 0
  if #readyList > 0 and playersTaken + size > maxPlayers then budgetHit = true break end
  readyList[#readyList + 1] = sid
  readyModes[#readyList] = h[1]
  playersTaken = playersTaken + size
end

-- Servers for them, in ServersAvailable order, `want` candidates at a time: each candidate is either live
-- (it takes the next session) or dead (lease ran out: skipped), so exactly the servers a one-by-one scan
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

-- The assignment as stored on the session and returned (JSON); rules modes add the teams and quality
-- written when the session filled (their JSON texts, spliced in as they are).
local function assignment_json(sid, serverId, address, mode, members, tickets, teams, quality, latencies)
  local players = {}
  for j = 1, #members do players[j] = { playerId = members[j], ticketId = tickets[j] } end
  local json = cjson.encode(assignment_payload(sid, serverId, address, players, mode, NOW))
  if teams and quality then json = string.sub(json, 1, -2) .. ',"teams":' .. teams .. ',"quality":' .. quality .. '}' end
  -- Latency modes (issue 14): the members' latencies to this region as the pool placed them (JSON text).
  if latencies then json = string.sub(json, 1, -2) .. ',"playerLatencies":' .. latencies .. '}' end
  return json
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
local encoded, addresses = {}, {}
local sids, announcePairs, serverPairs, claimPairs, matchTimes = {}, {}, {}, {}, {}
local sessionsPerMode, playersPerMode = {}, {}
local bandDelta = {}    -- mode -> skill band -> players leaving the waiting count (skill modes)

for i, serverId in ipairs(picked) do
  local sid = readyList[i]
  local mode = readyModes[i]
  local record, address = allocated_record(serverRecs[i], sid)
  local members, ticketOf, h, waits = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
  if h.units then
    for _, u in ipairs(cjson.decode(h.units)) do
      if u.s then
        for _, v in ipairs(u.s) do count_band(bandDelta, mode, v, -1) end
      end
    end
  end
  local tickets = {}
  for j, pid in ipairs(members) do
    tickets[j] = ticketOf[pid]
    -- LPUSH of many values pushes them in order, exactly like one LPUSH per player. A requeued group's
    -- wait counts from its requeue (its first match is already in the samples).
    matchTimes[#matchTimes + 1] = int(math.max(0, NOW - (waits[pid] or NOW)))
  end
  encoded[i] = assignment_json(sid, serverId, address, mode, members, tickets, h.teams, h.quality, h.latencies)
  addresses[i] = address
  sids[i] = sid
  announcePairs[#announcePairs + 1] = NOW_TEXT
  announcePairs[#announcePairs + 1] = sid
  serverPairs[#serverPairs + 1] = serverId
  serverPairs[#serverPairs + 1] = record
  claimPairs[#claimPairs + 1] = claimText
  claimPairs[#claimPairs + 1] = serverId
  sessionsPerMode[mode] = (sessionsPerMode[mode] or 0) + 1
  playersPerMode[mode] = (playersPerMode[mode] or 0) + #members
end

-- The figures after this call, from what is there now and what this call changes.
local byMode = {}
local counts = redis.call('HGETALL', P .. 'ReadyPerMode')
for i = 1, #counts, 2 do
  local n = tonumber(counts[i + 1]) - (sessionsPerMode[counts[i]] or 0)
  if n > 0 then byMode[counts[i]] = n end
end
local unassigned = redis.call('ZCARD', P .. 'SessionsReady') - #sids
local serversAvailable = redis.call('ZCARD', P .. 'ServersAvailable') - #picked
local more = budgetHit and #picked == #readyList

-- ---------------------------------------------------------------- writes
for i, sid in ipairs(sids) do
  redis.call('HSET', P .. 'Session:' .. sid, 'state', 'assigned', 'server', picked[i], 'address', addresses[i], 'assignedAt', NOW_TEXT,
    'retainMs', retentionText)
  redis.call('SET', P .. 'Match:' .. sid, encoded[i])
end
if #sids > 0 then
  call_chunked('ZREM', P .. 'SessionsReady', sids)
  call_chunked('ZREM', P .. 'SessionsCreationTime', sids)
  call_chunked('ZADD', P .. 'SessionsAnnouncing', announcePairs)
  call_chunked('HSET', P .. 'Servers', serverPairs)
  call_chunked('ZREM', P .. 'ServersAvailable', picked)
  call_chunked('ZADD', P .. 'ServerClaims', claimPairs)
  call_chunked('ZREM', P .. 'SessionsWaitingSince', sids)
  call_chunked('LPUSH', P .. 'MatchTimes', matchTimes)
  redis.call('LTRIM', P .. 'MatchTimes', 0, 999)
  for mode, n in pairs(sessionsPerMode) do ready_count(mode, int(-n)) end
  for mode, b in pairs(bandDelta) do
    for band, n in pairs(b) do redis.call('HINCRBY', P .. 'SkillBands:' .. mode, band, int(n)) end
  end
  for mode, n in pairs(playersPerMode) do
    redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(-n))
    redis.call('HINCRBY', P .. 'MatchedPerMode', mode, int(n))
  end
end

return '{"assigned":[' .. table.concat(encoded, ',') .. '],"unassigned":' .. unassigned ..
  ',"unassignedByMode":' .. cjson.encode(byMode) .. ',"serversAvailable":' .. serversAvailable ..
  ',"more":' .. (more and 'true' or 'false') .. '}'
