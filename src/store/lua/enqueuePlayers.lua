-- enqueuePlayers: a batch of player requests of one region joins sessions, in order, atomically.
-- KEYS[1]   the region's routing key (any key with its hash tag; routes the call on a cluster)
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, modes: {mode: sessionSize | rules}} (rules: includes/mode_rules.lua)
-- ARGV[3..] the requests, 6 + 2n values each: ticketId, playerId, mode, requestedAt (epoch ms, as text),
--           skill (text, "" = none), n (party members besides the leader), then n x (memberId, memberSkill)
-- Reply     JSON {results: [one per request, in order: {outcome: "queued", sessionId, sessionReady}
--           | {outcome: "duplicate", state, sessionId?} | {outcome: "rejected", error, detail, liveTicketId?}],
--           ready: [sessionIds this batch filled], backfills: open backfill requests of the region}
-- The requests are plain arguments rather than JSON: Redis then hands them to Lua as the strings they are
-- stored as, with no decoding per player and no number -> text conversion when they are written (int()).
-- Redelivery-safe: the player's record is the guard. A request whose ticket is the record's, one of the
-- earlier tickets it remembers (`seen`), or older than the record's ticket (requestedAt) is a "duplicate"
-- and changes nothing; the record is kept for the ticket retention once the ticket left or its game ended,
-- and a request older than the retention is refused (ticket_stale), so no repeat ever enqueues twice.
-- A party (leader + members) is one unit: one ticketId, one session, one team; every member gets its own
-- Player record (same session, `party` = all ids leader first; no `state` is stored: includes/player_state.lua). A member is a field
-- `@<playerId>` = "<ticketId> <requestedAt>" of its session's hash; SessionsWaitingSince scores each
-- session by its earliest member (one index entry per session, not per player).
--
-- Compute first, write last: every decision is made on what was read plus the batch's own pending state
-- (Lua tables standing in for the writes not done yet), and all writes come at the end. A failure before
-- that leaves Redis as it was (test/store/crashConsistency.test.ts), and the tables mirror exactly what
-- per-request writes would have left in Redis, so every request sees the state it would see one by one.
-- Plain FIFO modes take a fast path (one session per mode being filled at a time); rules modes (skill,
-- teams, parties) choose among capped candidates (includes/rules_candidates.lua).
--- @include "prologue"
--- @include "call_chunked"
--- @include "mode_rules"
--- @include "policy_open_session"
--- @include "rules_candidates"
--- @include "rules_session_derive"
--- @include "rules_session_score"
--- @include "rules_unit_fits"
--- @include "rules_session_add"
--- @include "rules_session_fill"
--- @include "rules_session_read"
--- @include "rules_session_units"
--- @include "rules_session_fields"
--- @include "count_band"
--- @include "player_state"
--- @include "detach_matched"
--- @include "ticket_seen"
--- @include "tickets_remembered"
--- @include "member_value"
--- @include "skill_text"
--- @include "rules_refusal"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local RULES = mode_rules(A.modes)
-- Latency pool hook (issue 14): with latency modes, a player whose latency ticket waits in this slot's pool
-- (lua/poolLatencyTickets.lua) has a live ticket too.
if A.latencyPool ~= nil and type(A.latencyPool) ~= 'boolean' then input_error('latencyPool', 'must be a boolean') end
local POOLED = A.latencyPool and ((ZONED and string.gsub(P, '[a-z0-9-]+:$', '') or P) .. 'Latency:') or nil

-- ---------------------------------------------------------------- input (all of it before any write)
-- `modes` is decoded from ARGV: a plain table without metatable, so a name like "constructor" is simply
-- absent; the type check of the entry is what makes an unconfigured mode a refusal, not a nil later on.
local NO_MEMBERS = {}
local reqs = {}
local a = 3
while a <= #ARGV do
  if #reqs >= 500 then input_error('ARGV[3..]', 'at most 500 requests') end
  if a + 5 > #ARGV then input_error('ARGV[3..]', 'a request is cut short (6 values + 2 per party member)') end
  local r = {
    ticketId = check_text('ticketId', ARGV[a], '^[A-Za-z0-9_-]+$', 64),
    playerId = check_text('playerId', ARGV[a + 1], '^[A-Za-z0-9_-]+$', 64),
    mode = check_text('mode', ARGV[a + 2], '^[a-z0-9][a-z0-9_-]*$', 32),
    requestedAt = ARGV[a + 3],
    skillText = ARGV[a + 4],
  }
  if RULES[r.mode] == nil then check_int('modes.' .. r.mode, nil, 1, 10000) end
  r.at = check_int('requestedAt', ARGV[a + 3], 1, 2 ^ 53)
  r.skill = skill_text('skill', ARGV[a + 4])
  local n = check_int('party', ARGV[a + 5], 0, 100)
  if a + 5 + 2 * n > #ARGV then input_error('ARGV[3..]', 'a request is cut short (6 values + 2 per party member)') end
  -- Solo requests (the bulk) share one empty list: three fresh tables per player are Lua GC work on the
  -- hottest path, and these lists are only ever read.
  if n == 0 then
    r.members, r.memberSkills, r.memberSkillTexts = NO_MEMBERS, NO_MEMBERS, NO_MEMBERS
  else
    r.members, r.memberSkills, r.memberSkillTexts = {}, {}, {}
  end
  for j = 1, n do
    r.members[j] = check_text('party.playerId', ARGV[a + 4 + 2 * j], '^[A-Za-z0-9_-]+$', 64)
    r.memberSkillTexts[j] = ARGV[a + 5 + 2 * j]
    r.memberSkills[j] = skill_text('party.skill', ARGV[a + 5 + 2 * j])
  end
  reqs[#reqs + 1] = r
  a = a + 6 + 2 * n
end
if #reqs < 1 then input_error('ARGV[3..]', 'must hold 1-500 requests') end
local count = #reqs

-- ---------------------------------------------------------------- reads and decisions
local results = {}
local ready = {}

-- Player records as this batch has left them: pid -> {ticketId, state (waiting|matched|left, derived:
-- includes/player_state.lua), session, at (requestedAt), seen, existed} (read once, then pending).
local recs = {}
local recWrites = {}     -- {pkey, hadRecord, field, value, ...}
local function rec(pid)
  local r = recs[pid]
  if r then return r end
  local h = redis.call('HMGET', P .. 'Player:' .. pid, 'ticketId', 'state', 'session', 'requestedAt', 'seen')
  r = { ticketId = h[1] or nil, state = h[2] or nil, session = h[3] or nil, at = tonumber(h[4]), seen = h[5] or nil, existed = (h[1] or h[2] or h[3]) and true or false }
  if r.existed then r.state = player_state(r) end
  recs[pid] = r
  return r
end

-- Matched players that move on (a new ticket) leave their assigned session's members: {pid, sid}.
local detaches = {}

-- Session ids come from a per-region counter: read once, counted here, written back at the end.
local seqKey = P .. 'SessionSeq'
local seqAtStart = tonumber(redis.call('GET', seqKey)) or 0
local seqNow = seqAtStart
local readyPairs, creationPairs = {}, {}
local readyPerMode, waitingPerMode = {}, {}
local bands = {}         -- mode -> band -> n (waiting players per skill band, skill modes)
local qualities = {}     -- mode -> {"spread gap wait", ...} of the sessions this batch filled

local function queued_json(sid, full)
  return '{"outcome":"queued","sessionId":"' .. sid .. '","sessionReady":' .. (full and 'true' or 'false') .. '}'
end

-- ---- plain FIFO modes
-- mode -> the open session this batch is filling: {sid, size, capacity, seq, fresh, members, queued}.
-- `members` are the fields `@<playerId>`, ticketId of the players added by this batch; `fresh` = opened by this batch, so nothing of it is in
-- Redis yet. Only one session per mode is filled at a time (the oldest open one), so this and the
-- sessions it filled (`filledSids`, still in Redis' open index until the writes) are all that is pending.
-- `queued` is the JSON result of a player joining it without filling it: the bulk of the reply,
-- formatted once per session rather than encoded by cjson once per player.
local filling = {}
local filledSids, filledCount = {}, {}
local fifoWrites = {}    -- sessions to write, in order: {mode, s}

local function session_for(mode)
  local s = filling[mode]
  if s then return s end
  local skip = filledSids[mode] or {}
  local open = policy_open_session(mode, skip, filledCount[mode] or 0)
  if open then
    local h = redis.call('HMGET', P .. 'Session:' .. open, 'size', 'capacity', 'seq')
    s = { sid = open, size = tonumber(h[1]) or 0, capacity = tonumber(h[2]), seq = tonumber(h[3]), fresh = false, members = {} }
  else
    -- Score = per-region sequence number: "oldest open session first" is exact even within one millisecond.
    seqNow = seqNow + 1
    s = { sid = REGION .. '.' .. int(seqNow), size = 0, capacity = RULES[mode].size, seq = seqNow, fresh = true, members = {} }
  end
  s.queued = queued_json(s.sid, false)
  filling[mode] = s
  return s
end

-- What the batch did to a session is final once it fills (or the batch ends): queue its write.
local function finish_fifo(mode, s)
  fifoWrites[#fifoWrites + 1] = { mode, s }
  if s.size >= s.capacity then
    readyPairs[#readyPairs + 1] = int(s.seq)
    readyPairs[#readyPairs + 1] = s.sid
    readyPerMode[mode] = (readyPerMode[mode] or 0) + 1
    if not s.fresh then
      filledSids[mode] = filledSids[mode] or {}
      filledSids[mode][s.sid] = true
      filledCount[mode] = (filledCount[mode] or 0) + 1
    end
  end
  filling[mode] = nil
end

-- ---- rules modes
local cache, cachedByMode = {}, {}   -- sid -> session (includes/rules_session_derive.lua), mode -> {sids}
local rulesOrder = {}                -- cached sessions in the order they were first changed

local function rules_cache(s)
  cache[s.sid] = s
  local list = cachedByMode[s.mode]
  if not list then
    list = {}
    cachedByMode[s.mode] = list
  end
  list[#list + 1] = s.sid
  rulesOrder[#rulesOrder + 1] = s.sid
end

local function index_score(rule, s)
  if rule.skill then return rules_session_score(s) end
  return s.seq
end

local function rules_load(sid, rule)
  local s = cache[sid]
  if s then return s end
  s = rules_session_read(sid, rule.skill ~= nil)
  if s then
    s.fresh = false
    s.added = {}
  end
  return s
end

-- The session a unit joins: among the candidates that fit, the one whose longest-waiting ticket waited
-- longest (then the lowest seq); else a new session. Returns it, with the unit added (and filled if full).
local function rules_join(mode, rule, u, umin, umax, ticketId, atText)
  local best, bestPlaced
  local score = rule.skill and (umin + umax) / 2 or 0
  for _, sid in ipairs(rules_candidates(mode, rule, score, cache, cachedByMode[mode] or {})) do
    local s = rules_load(sid, rule)
    if s and s.state == 'open' and s.mode == mode then
      local placed = rules_unit_fits(rule, s, u, umin, umax)
      if placed and (best == nil or s.oldest < best.oldest or (s.oldest == best.oldest and s.seq < best.seq)) then
        best, bestPlaced = s, placed
      end
    end
  end
  if not best then
    seqNow = seqNow + 1
    best = { sid = REGION .. '.' .. int(seqNow), mode = mode, capacity = rule.size, state = 'open', seq = seqNow, units = {}, sizes = {}, size = 0, fresh = true,
      added = {} }
    bestPlaced = rules_unit_fits(rule, best, u, umin, umax) or {}
    if #bestPlaced == 0 then
      -- A unit alone always has room (maxPartySize <= teamSize); only its own skill spread can exceed the
      -- window: it waits in its own session until a widened window or the timeout.
      bestPlaced = { 0 }
    end
  end
  if not cache[best.sid] then rules_cache(best) end
  rules_session_units(best)
  rules_session_add(best, u, bestPlaced)
  local value = member_value(ticketId, atText)
  for _, pid in ipairs(u.p) do
    best.added[#best.added + 1] = '@' .. pid
    best.added[#best.added + 1] = value
  end
  if not best.minAt or u.at < best.minAt then best.minAt = u.at end
  if best.size >= best.capacity then
    best.state = 'ready'
    rules_session_fill(rule, best)
    readyPairs[#readyPairs + 1] = int(best.seq)
    readyPairs[#readyPairs + 1] = best.sid
    readyPerMode[mode] = (readyPerMode[mode] or 0) + 1
    local q = best.quality
    qualities[mode] = qualities[mode] or {}
    local list = qualities[mode]
    list[#list + 1] = cjson.encode({ q.skillSpread, q.teamSkillGap, q.waitSeconds })
  end
  best.indexScore = index_score(rule, best)
  return best
end


-- A fresh record for each player of the unit: nothing of an earlier ticket (server, leftReason, TTL) survives.
local function write_record(pid, r, sid)
  local cur = rec(pid)
  if cur.state == 'matched' and cur.session then detaches[#detaches + 1] = { pid, cur.session } end
  local w = { P .. 'Player:' .. pid, cur.existed, 'ticketId', r.ticketId, 'mode', r.mode, 'session', sid, 'requestedAt', r.requestedAt }
  local seen = tickets_remembered(cur.seen, cur.ticketId, cur.at, r.at)
  if seen then
    w[#w + 1] = 'seen'
    w[#w + 1] = seen
  end
  recs[pid] = { ticketId = r.ticketId, state = 'waiting', session = sid, at = r.at, seen = seen, existed = true }
  return w
end

local function join(i, r)
  local rule = RULES[r.mode]
  local pid = r.playerId
  if rule.plain then
    local s = session_for(r.mode)
    local sid = s.sid
    s.members[#s.members + 1] = '@' .. pid
    s.members[#s.members + 1] = member_value(r.ticketId, r.requestedAt)
    if not s.minAt or r.at < s.minAt then s.minAt = r.at end
    s.size = s.size + 1
    local full = s.size >= s.capacity
    if full then
      finish_fifo(r.mode, s)
      ready[#ready + 1] = sid
    end
    local w = write_record(pid, r, sid)
    if r.skill then
      w[#w + 1] = 'skill'
      w[#w + 1] = r.skillText
    end
    recWrites[#recWrites + 1] = w
    waitingPerMode[r.mode] = (waitingPerMode[r.mode] or 0) + 1
    if full then return queued_json(sid, true) end
    return s.queued
  end
  -- A unit: the leader and the party members, with their skills (skill modes only).
  local u = { p = { pid }, at = r.at }
  local texts = { r.skillText }
  for j, m in ipairs(r.members) do
    u.p[j + 1] = m
    texts[j + 1] = r.memberSkillTexts[j]
  end
  local umin, umax = 0, 0
  if rule.skill then
    u.s = { r.skill }
    for j = 1, #r.members do u.s[j + 1] = r.memberSkills[j] end
    umin, umax = u.s[1], u.s[1]
    for _, v in ipairs(u.s) do
      if v < umin then umin = v end
      if v > umax then umax = v end
    end
  end
  local s = rules_join(r.mode, rule, u, umin, umax, r.ticketId, r.requestedAt)
  local full = s.state == 'ready'
  if full then ready[#ready + 1] = s.sid end
  local party = #u.p > 1 and table.concat(u.p, ',') or nil
  for j, m in ipairs(u.p) do
    local w = write_record(m, r, s.sid)
    local has = (j == 1 and r.skill ~= nil) or (j > 1 and r.memberSkills[j - 1] ~= nil)
    local sk = has and texts[j] or nil
    if sk then
      w[#w + 1] = 'skill'
      w[#w + 1] = sk
    end
    if party then
      w[#w + 1] = 'party'
      w[#w + 1] = party
    end
    recWrites[#recWrites + 1] = w
    if rule.skill then
      count_band(bands, r.mode, u.s[j], 1)
    end
  end
  waitingPerMode[r.mode] = (waitingPerMode[r.mode] or 0) + #u.p
  return queued_json(s.sid, full)
end

for i = 1, count do
  local r = reqs[i]
  local ticketId, playerId = r.ticketId, r.playerId
  local res = rules_refusal(RULES[r.mode], r)
  if not res then
    local cur = rec(playerId)
    if ticket_seen(cur.ticketId, nil, cur.seen, ticketId, nil) then
      -- Seen before (redelivery, or the ticket already left / matched / was preempted / superseded): nothing changes.
      res = { outcome = 'duplicate', state = 'unknown' }
      if cur.ticketId == ticketId then
        res.state = cur.state
        if cur.session then res.sessionId = cur.session end
      end
    elseif NOW - r.at > retention then
      res = { outcome = 'rejected', error = 'ticket_stale',
        detail = 'the request is older than the ticket retention (' .. math.floor(retention / 1000) .. ' s); ask for a new ticket' }
    elseif cur.at and r.at < cur.at then
      -- Older than the player's current ticket: superseded (a redelivery, or a ticket that lost the race to
      -- a later one); it never replaces the newer one.
      res = { outcome = 'duplicate', state = 'unknown' }
    elseif cur.state == 'waiting' then
      res = { outcome = 'rejected', error = 'ticket_live',
        detail = 'player ' .. playerId .. ' already has a live ticket ' .. cur.ticketId .. '; cancel it first', liveTicketId = cur.ticketId }
    elseif POOLED and redis.call('HGET', POOLED .. 'Player:' .. playerId, 'state') == 'waiting' then
      local live = redis.call('HGET', POOLED .. 'Player:' .. playerId, 'ticketId')
      res = { outcome = 'rejected', error = 'ticket_live',
        detail = 'player ' .. playerId .. ' already has a live ticket ' .. live .. ' (waiting for a region by latency); cancel it first', liveTicketId = live }
    else
      for _, m in ipairs(r.members) do
        local mc = rec(m)
        if mc.state == 'waiting' then
          res = { outcome = 'rejected', error = 'party_member_live',
            detail = 'party member ' .. m .. ' already has a live ticket ' .. mc.ticketId .. '; it must cancel it first', liveTicketId = mc.ticketId }
          break
        end
      end
    end
  end
  if res then results[i] = cjson.encode(res) else results[i] = join(i, r) end
end
-- Sessions still filling when the batch ended (not full: they stay open).
for mode, s in pairs(filling) do finish_fifo(mode, s) end
-- The region's open backfill requests, for the reply: with none, a fill after this batch has nothing to do,
-- and a request opened later fills from these tickets itself (the store then skips the intake's fill call).
-- Read here, before the first write (a read is a failure point), in the same atomic step as the writes.
local backfills = redis.call('ZCARD', P .. 'Backfills')

-- ---------------------------------------------------------------- writes
for _, w in ipairs(recWrites) do
  if w[2] then redis.call('DEL', w[1]) end
  redis.call('HSET', w[1], unpack(w, 3))
end
for _, d in ipairs(detaches) do detach_matched(d[1], d[2]) end
local waitPairs = {}   -- SessionsWaitingSince: each session this batch added members to, their earliest wait
for _, x in ipairs(fifoWrites) do
  local mode, s = x[1], x[2]
  waitPairs[#waitPairs + 1] = int(s.minAt)
  waitPairs[#waitPairs + 1] = s.sid
  local skey = P .. 'Session:' .. s.sid
  local openKey = P .. 'SessionsPerMatchmaking:' .. mode
  local full = s.size >= s.capacity
  local m = s.members
  if s.fresh then
    for _, v in ipairs({ 'mode', mode, 'capacity', int(s.capacity), 'size', int(s.size), 'state', full and 'ready' or 'open', 'seq', int(s.seq),
      'createdAt', NOW_TEXT }) do m[#m + 1] = v end
    call_chunked('HSET', skey, m)
    creationPairs[#creationPairs + 1] = NOW_TEXT
    creationPairs[#creationPairs + 1] = s.sid
    if not full then redis.call('ZADD', openKey, int(s.seq), s.sid) end
  elseif full then
    for _, v in ipairs({ 'size', int(s.size), 'state', 'ready' }) do m[#m + 1] = v end
    call_chunked('HSET', skey, m)
    redis.call('ZREM', openKey, s.sid)
  else
    m[#m + 1] = 'size'
    m[#m + 1] = int(s.size)
    call_chunked('HSET', skey, m)
  end
end
for _, sid in ipairs(rulesOrder) do
  local s = cache[sid]
  local rule = RULES[s.mode]
  local skey = P .. 'Session:' .. sid
  local openKey = P .. 'SessionsPerMatchmaking:' .. s.mode
  local skillKey = P .. 'SessionsBySkill:' .. s.mode
  local full = s.state == 'ready'
  if s.minAt then
    waitPairs[#waitPairs + 1] = int(s.minAt)
    waitPairs[#waitPairs + 1] = sid
  end
  local fields = rules_session_fields(s, { 'size', int(s.size), 'state', s.state })
  for _, v in ipairs(s.added) do fields[#fields + 1] = v end
  if s.fresh then
    for _, v in ipairs({ 'mode', s.mode, 'capacity', int(s.capacity), 'seq', int(s.seq), 'createdAt', NOW_TEXT }) do fields[#fields + 1] = v end
    creationPairs[#creationPairs + 1] = NOW_TEXT
    creationPairs[#creationPairs + 1] = sid
  end
  if full then
    fields[#fields + 1] = 'teams'
    fields[#fields + 1] = cjson.encode(s.teams)
    fields[#fields + 1] = 'quality'
    fields[#fields + 1] = cjson.encode(s.quality)
  end
  redis.call('HSET', skey, unpack(fields))
  if full then
    if not s.fresh then
      redis.call('ZREM', openKey, sid)
      if rule.skill then redis.call('ZREM', skillKey, sid) end
    end
  else
    if s.fresh then redis.call('ZADD', openKey, int(s.seq), sid) end
    if rule.skill then redis.call('ZADD', skillKey, s.indexScore, sid) end
  end
end
if seqNow ~= seqAtStart then redis.call('SET', seqKey, int(seqNow)) end
-- LT: a session's score only ever goes down by a join (a fresh session is simply added).
for i = 1, #waitPairs, CHUNK do
  redis.call('ZADD', P .. 'SessionsWaitingSince', 'LT', unpack(waitPairs, i, math.min(i + CHUNK - 1, #waitPairs)))
end
call_chunked('ZADD', P .. 'SessionsCreationTime', creationPairs)
call_chunked('ZADD', P .. 'SessionsReady', readyPairs)
for mode, n in pairs(waitingPerMode) do redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n)) end
for mode, n in pairs(readyPerMode) do redis.call('HINCRBY', P .. 'ReadyPerMode', mode, int(n)) end
for mode, b in pairs(bands) do
  for band, n in pairs(b) do redis.call('HINCRBY', P .. 'SkillBands:' .. mode, band, int(n)) end
end
for mode, list in pairs(qualities) do
  call_chunked('LPUSH', P .. 'MatchQuality:' .. mode, list)
  redis.call('LTRIM', P .. 'MatchQuality:' .. mode, 0, 999)
end

-- `results` holds JSON texts already; `ready` ids are [a-z0-9.-] (no escaping needed either way).
return '{"results":[' .. table.concat(results, ',') .. '],"ready":' .. cjson.encode(ready) .. ',"backfills":' .. int(backfills) .. '}'
