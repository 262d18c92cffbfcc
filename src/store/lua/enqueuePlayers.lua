-- enqueuePlayers: a batch of player requests of one region joins sessions, in order, atomically.
-- KEYS[1]   the region's routing key (any key with its hash tag; routes the call on a cluster)
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, modes: {mode: sessionSize}}
-- ARGV[3..] the requests, 4 values each: ticketId, playerId, mode, requestedAt (epoch ms, as text)
-- Reply     JSON {results: [one per request, in order: {outcome: "queued", sessionId, sessionReady}
--           | {outcome: "duplicate", state, sessionId?} | {outcome: "rejected", error, detail, liveTicketId?}],
--           ready: [sessionIds this batch filled]}
-- The requests are plain arguments rather than JSON: Redis then hands them to Lua as the strings they are
-- stored as, with no decoding per player and no number -> text conversion when they are written (int()).
-- Redelivery-safe: Ticket:<ticketId> (kept for the ticket retention) turns any repeat into "duplicate".
--
-- This is the hottest script (every player passes it once), and Redis' CPU is what limits throughput.
-- So per player it only reads the ticket guard (all of them in one MGET) and the player record, and
-- writes the record and the guard. What many players share - the open session a mode is
-- filling (its members, size, state), the session counter, the waiting index and the counters - is kept
-- in Lua tables while the batch runs and written once. The tables mirror exactly what the per-request
-- writes would have left in Redis, so every request sees the same state as if they ran one by one.
--- @include "prologue"
--- @include "call_chunked"
--- @include "detach_matched"
--- @include "policy_open_session"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local count = (#ARGV - 2) / 4
-- All input is checked before the first write (Redis does not roll back a script that fails halfway).
-- `modes` is decoded from ARGV: a plain table without metatable, so a name like "constructor" is simply
-- absent; the type check of the entry is what makes an unconfigured mode a refusal, not a nil later on.
if count % 1 ~= 0 or count < 1 or count > 500 then input_error('ARGV[3..]', 'must hold 4 values per request, 1-500 requests') end
if type(A.modes) ~= 'table' then input_error('modes', 'must be an object {mode: sessionSize}') end
for i = 1, count do
  local a = 4 * i - 1
  check_text('ticketId', ARGV[a], '^[A-Za-z0-9_-]+$', 64)
  check_text('playerId', ARGV[a + 1], '^[A-Za-z0-9_-]+$', 64)
  local mode = check_text('mode', ARGV[a + 2], '^[a-z0-9][a-z0-9_-]*$', 32)
  check_int('modes.' .. mode, A.modes[mode], 1, 10000)
  check_int('requestedAt', ARGV[a + 3], 1, 2 ^ 53)
end
local results = {}
local ready = {}

-- The ticket guards of the whole batch in one read; guards this batch writes are tracked in ticketsSet,
-- so a ticket repeated within the batch sees the guard its first copy wrote.
local tkeys = {}
for i = 1, count do tkeys[i] = P .. 'Ticket:' .. ARGV[4 * i - 1] end
local owners = call_chunked('MGET', nil, tkeys)
local ticketsSet = {}

local function set_ticket(i, ticketId, playerId)
  redis.call('SET', tkeys[i], playerId, 'PX', retentionText)
  ticketsSet[ticketId] = playerId
end

-- Session ids come from a per-region counter: read once, counted here, written back at the end.
local seqKey = P .. 'SessionSeq'
local seqAtStart = tonumber(redis.call('GET', seqKey)) or 0
local seqNow = seqAtStart

-- mode -> the open session this batch is filling: {sid, size, capacity, seq, fresh, members, queued}.
-- `members` are the players added by this batch; `fresh` = opened by this batch, so nothing of it is in
-- Redis yet. Only one session per mode is filled at a time (the oldest open one), so this is all that can
-- be pending. `queued` is the JSON result of a player joining it without filling it: the bulk of the
-- reply, formatted once per session rather than encoded by cjson once per player.
local filling = {}
local readyPairs, creationPairs, waitingPairs = {}, {}, {}
local readyPerMode, waitingPerMode = {}, {}

local function queued_json(sid, full)
  return '{"outcome":"queued","sessionId":"' .. sid .. '","sessionReady":' .. (full and 'true' or 'false') .. '}'
end

-- The session a player of `mode` joins: the one this batch is filling, else the policy's choice
-- (policy_open_session), else a new one (capacity = the mode's size now).
local function session_for(mode)
  local s = filling[mode]
  if s then return s end
  local open = policy_open_session(mode)
  if open then
    local h = redis.call('HMGET', P .. 'Session:' .. open, 'size', 'capacity', 'seq')
    s = { sid = open, size = tonumber(h[1]) or 0, capacity = tonumber(h[2]), seq = tonumber(h[3]), fresh = false, members = {} }
  else
    -- Score = per-region sequence number: "oldest open session first" is exact even within one millisecond.
    seqNow = seqNow + 1
    s = { sid = REGION .. '.' .. int(seqNow), size = 0, capacity = tonumber(A.modes[mode]), seq = seqNow, fresh = true, members = {} }
  end
  s.queued = queued_json(s.sid, false)
  filling[mode] = s
  return s
end

-- Writes what the batch did to a session: its new members, its size and, once full, its move to ready.
-- Called when it fills (before the next lookup of the mode's oldest open session) and at the end.
local function flush(mode, s)
  local skey = P .. 'Session:' .. s.sid
  local openKey = P .. 'SessionsPerMatchmaking:' .. mode
  local full = s.size >= s.capacity
  call_chunked('SADD', P .. 'SessionPlayers:' .. s.sid, s.members)
  if s.fresh then
    redis.call('HSET', skey, 'mode', mode, 'capacity', int(s.capacity), 'size', int(s.size), 'state', full and 'ready' or 'open',
      'seq', int(s.seq), 'createdAt', NOW_TEXT, 'region', REGION)
    creationPairs[#creationPairs + 1] = NOW_TEXT
    creationPairs[#creationPairs + 1] = s.sid
    if not full then redis.call('ZADD', openKey, int(s.seq), s.sid) end
  elseif full then
    redis.call('HSET', skey, 'size', int(s.size), 'state', 'ready')
    redis.call('ZREM', openKey, s.sid)
  else
    redis.call('HSET', skey, 'size', int(s.size))
  end
  if full then
    readyPairs[#readyPairs + 1] = int(s.seq)
    readyPairs[#readyPairs + 1] = s.sid
    readyPerMode[mode] = (readyPerMode[mode] or 0) + 1
  end
  filling[mode] = nil
end

-- Returns the request's result as JSON text.
local function join(i, ticketId, playerId, mode, requestedAt, pkey, cur)
  detach_matched(playerId, cur[2], cur[3])
  local s = session_for(mode)
  local sid = s.sid
  s.members[#s.members + 1] = playerId
  s.size = s.size + 1
  local full = s.size >= s.capacity
  if full then
    flush(mode, s)
    ready[#ready + 1] = sid
  end
  -- A fresh record: nothing of an earlier ticket (server, leftReason, TTL) survives. Every record has a
  -- ticketId and a state, so when the HMGET found none of its fields there is nothing to delete.
  if cur[1] or cur[2] or cur[3] then redis.call('DEL', pkey) end
  redis.call('HSET', pkey, 'ticketId', ticketId, 'mode', mode, 'region', REGION, 'state', 'waiting',
    'session', sid, 'requestedAt', requestedAt)
  waitingPairs[#waitingPairs + 1] = requestedAt
  waitingPairs[#waitingPairs + 1] = playerId
  set_ticket(i, ticketId, playerId)
  waitingPerMode[mode] = (waitingPerMode[mode] or 0) + 1
  if full then return queued_json(sid, true) end
  return s.queued
end

for i = 1, count do
  local a = 4 * i - 1
  local ticketId, playerId, mode, requestedAt = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local owner = ticketsSet[ticketId] or owners[i]
  local pkey = P .. 'Player:' .. playerId
  local cur = redis.call('HMGET', pkey, 'ticketId', 'state', 'session')
  local res
  if owner and owner ~= playerId then
    res = { outcome = 'rejected', error = 'ticket_reused',
      detail = 'ticketId ' .. ticketId .. ' was already used by another player' }
  elseif owner or (cur[1] == ticketId and cur[2] == 'waiting') then
    -- Seen before (redelivery, or the ticket already left / matched / was preempted): nothing changes.
    res = { outcome = 'duplicate', state = 'unknown' }
    if cur[1] == ticketId then
      res.state = cur[2]
      if cur[3] then res.sessionId = cur[3] end
    end
    if not owner then set_ticket(i, ticketId, playerId) end
  elseif NOW - tonumber(requestedAt) > retention then
    res = { outcome = 'rejected', error = 'ticket_stale',
      detail = 'the request is older than the ticket retention (' .. math.floor(retention / 1000) .. ' s); ask for a new ticket' }
  elseif cur[2] == 'waiting' then
    res = { outcome = 'rejected', error = 'ticket_live',
      detail = 'player ' .. playerId .. ' already has a live ticket ' .. cur[1] .. '; cancel it first',
      liveTicketId = cur[1] }
  end
  if res then results[i] = cjson.encode(res) else results[i] = join(i, ticketId, playerId, mode, requestedAt, pkey, cur) end
end

-- Sessions still filling when the batch ended (not full: they stay open).
for mode, s in pairs(filling) do flush(mode, s) end
if seqNow ~= seqAtStart then redis.call('SET', seqKey, int(seqNow)) end
call_chunked('ZADD', P .. 'PlayersTimeStartedMatchmaking', waitingPairs)
call_chunked('ZADD', P .. 'SessionsCreationTime', creationPairs)
call_chunked('ZADD', P .. 'SessionsReady', readyPairs)
for mode, n in pairs(waitingPerMode) do redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n)) end
for mode, n in pairs(readyPerMode) do redis.call('HINCRBY', P .. 'ReadyPerMode', mode, int(n)) end

-- `results` holds JSON texts already; `ready` ids are [a-z0-9.-] (no escaping needed either way).
return '{"results":[' .. table.concat(results, ',') .. '],"ready":' .. cjson.encode(ready) .. '}'
