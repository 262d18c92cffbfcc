-- fillBackfills: waiting tickets join running games that asked for players (backfill), before they can
-- start new sessions: the store runs it before assignSessions, after an intake batch whose enqueue saw an
-- open request (enqueuePlayers' `backfills`), after a request and in the sweep.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, modes, afterSeq, max (requests examined), maxPlayers (joined),
--           maxScan (waiting players looked at), pool?: {prefix, modes}} (latency modes, issue 14: the pool
--           prefix "<prefix>:{<tag>}:Latency:" of this region's slot and the latency modes as
--           includes/latency_rules.lua takes them)
-- Reply     JSON {joins: [join], dropped: [{sessionId, reason}], completed: [backfillId], cursor, more}
--           join = the session's assignment after the join (all its players, teams) + {backfillId, joinId,
--           joined: [{playerId, ticketId}]}: announced like a match-made, to the joined players only.
--           cursor = seq of the last request examined; more = true: call again with afterSeq = cursor.
-- Requests are served oldest first (Backfills, by seq). For each, whole units (a party never splits) of its
-- mode that wait in open sessions (the oldest few) or ready sessions (the first few in serving order) join,
-- oldest ticket first, while a team has room for the whole unit: the team with room and the lowest skill
-- total. Latency modes (`pool`): whole units waiting in the slot's latency pool are candidates too (the
-- oldest, those of lowest latency to this region, in skill modes those nearest the game's skill), and one
-- joins only when its latency to this region (every member's: a unit measures as one) is within the max in
-- force for the longer of its wait and the request's age; it leaves the pool in the same step, as a
-- placement does (so placeLatencyPool never places it too), and its latency is in the join's
-- playerLatencies. Skill modes: the spread over the players already in the game and the joining unit stays within the
-- window in force for the longer of the unit's wait and the request's age. A unit joins one game only, and
-- a player the backfill takes leaves its waiting session in the same step (a ready session it leaves
-- reopens under its seq, an emptied one is deleted), so a backfill and assignSessions never share a player.
-- Only a server with a live lease gets players. A broken entry (its session ended or is not that server's,
-- a field that does not parse, a mode no longer configured) is dropped and reported: it never fails the call.
-- Compute first, write last: all decisions on what was read plus this call's pending state, then the writes.
--- @include "prologue"
--- @include "mode_rules"
--- @include "call_chunked"
--- @include "skill_window"
--- @include "rules_session_derive"
--- @include "rules_session_score"
--- @include "rules_session_fields"
--- @include "rules_units_keep"
--- @include "rules_sessions_rederive"
--- @include "write_session_shrunk"
--- @include "ready_count"
--- @include "count_band"
--- @include "end_backfill"
--- @include "backfill_source"
--- @include "backfill_target"
--- @include "backfill_write_join"
-- The latency pool of this region's slot (a zone's regions share one; a lone region's is its own), for the
-- latency includes: they build pool keys from POOL and region keys from P (RP: in_region's table).
local POOL = (ZONED and string.match(P, '^(.*}:)[^}]*$') or P) .. 'Latency:'
local RP = { [REGION] = P }
--- @include "in_region"
--- @include "latency_rules"
--- @include "latency_unit_reader"
--- @include "player_state"
--- @include "tickets_remembered"
--- @include "latency_place_read"
--- @include "backfill_pooled"
--- @include "backfill_write_pooled"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local afterSeq = check_int('afterSeq', A.afterSeq, 0, 2 ^ 53)
local max = check_int('max', A.max, 1, 1000)
local maxPlayers = check_int('maxPlayers', A.maxPlayers, 1, 10000)
local maxScan = check_int('maxScan', A.maxScan, 1, 100000)
local LRULES = {}
if A.pool ~= nil then
  if type(A.pool) ~= 'table' or A.pool.prefix ~= POOL then input_error('pool', 'must be {prefix, modes}, prefix the latency pool of this region: ' .. POOL) end
  LRULES = latency_rules(A.pool.modes)
end
-- Waiting sessions a mode's pool is taken from: the oldest open ones, and the first ready ones in serving order;
-- in skill modes also, per game, the open sessions nearest its skill midpoint (NEAR_SCAN above and below).
local OPEN_SCAN, READY_SCAN, NEAR_SCAN = 10, 20, 3
-- Latency modes: pooled units a call looks at per mode (the oldest, and those of lowest latency to this
-- region), and per skill game the nearest above and below its midpoint.
local POOL_SCAN, POOL_NEAR_SCAN = 16, 4

-- ---------------------------------------------------------------- reads and decisions
local entries = redis.call('ZRANGEBYSCORE', P .. 'Backfills', afterSeq > 0 and '(' .. int(afterSeq) or '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, max)
-- No game asks for players (the sweep's common case; nothing is written either way).
if #entries == 0 then return '{"joins":[],"dropped":[],"completed":[],"cursor":' .. int(afterSeq) .. ',"more":false}' end
local RULES = mode_rules(A.modes)
local more = #entries == 2 * max
local cursor = afterSeq
local joins, dropped, completed = {}, {}, {}
local scanned, joinedCount = 0, 0
local waitingCount = {}
local pools = {}            -- mode -> candidate units, oldest first (shared by the requests of a call)
local poolSids = {}         -- mode -> sid -> true: the sessions in the mode's pool
local sources, sourceOrder = {}, {}
local taken = {}            -- pid -> true: joined a game in this call
local work = {}             -- backfills with joins: {b, t, pids, tickets, free}
local toDrop = {}           -- sids whose entries are broken
local waitingDelta, matchedDelta, bandDelta, matchTimes = {}, {}, {}, {}
local unit_of = latency_unit_reader()
local pooledCount = {}      -- mode -> players waiting in the latency pool (latency modes)
local pooledSeen = {}       -- mode -> leader -> its candidate (false: none): pooled units read in this call

-- A mode's count in a WaitingPerMode hash (the region's or the pool's), read once per call into `cache`.
local function count_in(cache, key, mode)
  local n = cache[mode]
  if n == nil then
    n = tonumber(redis.call('HGET', key, mode)) or 0
    cache[mode] = n
  end
  return n
end

local function waiting_in(mode)
  return count_in(waitingCount, P .. 'WaitingPerMode', mode)
end

-- A waiting session of `mode` read once per call (its candidate units), within the scan budget.
local function source_of(sid, mode)
  local s = sources[sid]
  if s then return s end
  if scanned >= maxScan then return nil end
  local n
  s, n = backfill_source(sid, mode)
  scanned = scanned + n
  if s then
    s.gone, s.removed = {}, {}
    sources[sid] = s
    sourceOrder[#sourceOrder + 1] = sid
  end
  return s
end

local function oldest_first(x, y)
  if x.at ~= y.at then return x.at < y.at end
  return x.p[1] < y.p[1]
end

-- Two lists of candidate units, each oldest first, merged (sorting the whole pool again for every game
-- would cost O(n log n) each).
local function merged(pool, extra)
  if #extra == 0 then return pool end
  local out, i, j = {}, 1, 1
  while i <= #pool or j <= #extra do
    if j > #extra or (i <= #pool and oldest_first(pool[i], extra[j])) then
      out[#out + 1] = pool[i]
      i = i + 1
    else
      out[#out + 1] = extra[j]
      j = j + 1
    end
  end
  return out
end

-- Players of a latency mode waiting in the pool (0 for other modes), read once per call.
local function pooled_in(mode)
  if not LRULES[mode] then return 0 end
  return count_in(pooledCount, POOL .. 'WaitingPerMode', mode)
end

-- Pooled units of a latency mode (includes/backfill_pooled.lua), within the scan budget; `mid`: near a skill game's midpoint.
local function pooled_of(mode, mid)
  local lrule = LRULES[mode]
  if not lrule or pooled_in(mode) <= 0 or scanned >= maxScan then return {} end
  local widest = lrule.latency.window
  for _, step in ipairs(lrule.latency.widen) do
    if step[2] > widest then widest = step[2] end
  end
  pooledSeen[mode] = pooledSeen[mode] or {}
  local units, n = backfill_pooled(mode, widest, mid, pooledSeen[mode], unit_of, POOL_SCAN, POOL_NEAR_SCAN)
  scanned = scanned + n
  return units
end

-- The pool of a mode, read once per call; nil when the scan budget ran out before it could be read.
local function pool_of(mode)
  local pool = pools[mode]
  if pool then return pool end
  if scanned >= maxScan then return nil end
  pool = {}
  local seen = {}
  local sids = redis.call('ZRANGE', P .. 'SessionsPerMatchmaking:' .. mode, 0, OPEN_SCAN - 1)
  for _, sid in ipairs(redis.call('ZRANGE', P .. 'SessionsReady', 0, READY_SCAN - 1)) do sids[#sids + 1] = sid end
  for _, sid in ipairs(sids) do
    local s = source_of(sid, mode)
    if s and not seen[sid] then
      seen[sid] = true
      for _, u in ipairs(s.cands) do pool[#pool + 1] = u end
    end
  end
  table.sort(pool, oldest_first)
  pool = merged(pool, pooled_of(mode))
  pools[mode] = pool
  poolSids[mode] = seen
  return pool
end

-- Skill modes: the mode's pool plus the units of the open sessions nearest the game's skill midpoint (the
-- oldest sessions may all be far from it), oldest first.
local function near_pool(mode, pool, mid)
  local key = P .. 'SessionsBySkill:' .. mode
  local sids = redis.call('ZRANGEBYSCORE', key, mid, '+inf', 'LIMIT', 0, NEAR_SCAN)
  for _, sid in ipairs(redis.call('ZREVRANGEBYSCORE', key, mid, '-inf', 'LIMIT', 0, NEAR_SCAN)) do sids[#sids + 1] = sid end
  local extra, seen = {}, {}
  for _, sid in ipairs(sids) do
    if not poolSids[mode][sid] and not seen[sid] then
      seen[sid] = true
      local s = source_of(sid, mode)
      if s then
        for _, u in ipairs(s.cands) do extra[#extra + 1] = u end
      end
    end
  end
  table.sort(extra, oldest_first)
  return merged(merged(pool, extra), pooled_of(mode, mid))
end

-- A request as stored, checked field by field; nil and the reason when it is broken.
local function parse_entry(h)
  local b = {}
  for i = 1, #h, 2 do b[h[i]] = h[i + 1] end
  if type(b.backfillId) ~= 'string' or type(b.serverId) ~= 'string' or type(b.mode) ~= 'string' then return nil, 'malformed_entry' end
  local rule = RULES[b.mode]
  if type(rule) ~= 'table' then return nil, 'unknown_mode' end
  b.rule = rule
  b.free = {}
  for n in string.gmatch(b.slots or '', '[^,]+') do
    local v = tonumber(n)
    if not v or v < 0 or v % 1 ~= 0 then return nil, 'malformed_entry' end
    b.free[#b.free + 1] = v
  end
  if #b.free ~= rule.teams then return nil, 'malformed_entry' end
  b.requestedAt = tonumber(b.requestedAt)
  b.joins = tonumber(b.joins) or 0
  if not b.requestedAt then return nil, 'malformed_entry' end
  return b
end

-- The game's skill range and team totals, from its units (rules modes).
local function game_summary(t, teams)
  t.totals = {}
  for i = 1, teams do t.totals[i] = 0 end
  if not t.units then return end
  for _, u in ipairs(t.units) do
    local team = (tonumber(u.t) or 0) + 1
    if u.s then
      for _, v in ipairs(u.s) do
        if t.smin == nil or v < t.smin then t.smin = v end
        if t.smax == nil or v > t.smax then t.smax = v end
        if t.totals[team] then t.totals[team] = t.totals[team] + v end
      end
    end
  end
end

-- A unit's skill range, computed once per call (u.lo, u.hi; false when it has no skills).
local function unit_range(u)
  if u.lo == nil then
    u.lo = false
    if type(u.s) == 'table' and #u.s == #u.p then
      for _, v in ipairs(u.s) do
        if type(v) ~= 'number' then
          u.lo = false
          break
        end
        if not u.lo or v < u.lo then u.lo = v end
        if not u.hi or v > u.hi then u.hi = v end
      end
    end
  end
  return u.lo, u.hi
end

-- The team (1-based) unit u joins, or nil when it does not fit. `most`: the largest free team's room.
local function team_for(b, t, u, most)
  local n = #u.p
  if n > most then return nil end
  local best
  for i = 1, #b.free do
    if b.free[i] >= n and (best == nil or t.totals[i] < t.totals[best]) then best = i end
  end
  if not best then return nil end
  if u.pooled then
    -- Not measured (false): the unit's home region, where it may always be placed (includes/latency_parse.lua).
    local ms = u.pooled.ms[REGION]
    if ms == nil or (ms or 0) > skill_window(LRULES[b.mode].latency, NOW - math.min(u.at, b.requestedAt)) then return nil end
  end
  local skill = b.rule.skill
  if skill then
    local ulo, uhi = unit_range(u)
    if not ulo then return nil end
    local lo, hi = ulo, uhi
    if t.smin ~= nil and t.smin < lo then lo = t.smin end
    if t.smax ~= nil and t.smax > hi then hi = t.smax end
    if hi - lo > skill_window(skill, NOW - math.min(u.at, b.requestedAt)) then return nil end
  end
  return best
end

local function join(b, t, w, u, team)
  local a = t.assignment
  if u.pooled then
    w.plans[#w.plans + 1] = u.plan
    w.latencyWait = math.max(w.latencyWait or 0, NOW - math.min(u.at, b.requestedAt))
    local ms = u.pooled.ms[REGION]
    if ms then
      if type(a.playerLatencies) ~= 'table' then a.playerLatencies = {} end
      for _, pid in ipairs(u.p) do a.playerLatencies[pid] = ms end
    end
  end
  for j, pid in ipairs(u.p) do
    taken[pid] = true
    if not u.pooled then
      u.src.gone[pid] = true
      u.src.removed[#u.src.removed + 1] = pid
    end
    w.pids[#w.pids + 1] = pid
    w.players[#w.players + 1] = { playerId = pid, ticketId = u.tk[j] }
    a.players[#a.players + 1] = { playerId = pid, ticketId = u.tk[j] }
    if type(a.teams) == 'table' and type(a.teams[team]) == 'table' then
      local list = a.teams[team].players
      if type(list) ~= 'table' then list = {} a.teams[team].players = list end
      list[#list + 1] = pid
    end
    matchTimes[#matchTimes + 1] = int(math.max(0, NOW - u.at))
    if u.s and u.s[j] then
      -- Pooled players were never counted in the region's SkillBands (a placement counts them).
      if not u.pooled then count_band(bandDelta, b.mode, u.s[j], -1) end
      t.totals[team] = t.totals[team] + u.s[j]
      if t.smin == nil or u.s[j] < t.smin then t.smin = u.s[j] end
      if t.smax == nil or u.s[j] > t.smax then t.smax = u.s[j] end
    end
  end
  if t.units then t.units[#t.units + 1] = { p = u.p, s = u.s, at = u.at, t = team - 1 } end
  b.free[team] = b.free[team] - #u.p
  matchedDelta[b.mode] = (matchedDelta[b.mode] or 0) + #u.p
  if u.pooled then
    pooledCount[b.mode] = pooled_in(b.mode) - #u.p
  else
    waitingDelta[b.mode] = (waitingDelta[b.mode] or 0) - #u.p
    waitingCount[b.mode] = waiting_in(b.mode) - #u.p
  end
  joinedCount = joinedCount + #u.p
end

local function room(b)
  local n = 0
  for _, v in ipairs(b.free) do n = n + v end
  return n
end

for i = 1, #entries, 2 do
  local sid, seq = entries[i], tonumber(entries[i + 1])
  if joinedCount >= maxPlayers then
    more = true
    break
  end
  local b, why = parse_entry(redis.call('HGETALL', P .. 'Backfill:' .. sid))
  local t
  if b then t, why = backfill_target(sid, b.serverId) end
  if t and t.mode ~= b.mode then t, why = nil, 'malformed_entry' end
  if t then
    -- Only the decoding is guarded: a record that does not parse breaks this entry alone.
    local raw = redis.call('HGET', P .. 'Servers', b.serverId)
    local okS, rec = pcall(cjson.decode, raw or '')
    if not okS or type(rec) ~= 'table' or rec.state ~= 'allocated' or rec.sessionId ~= sid then t, why = nil, 'server_not_running' end
  end
  if not t then
    toDrop[#toDrop + 1] = sid
    dropped[#dropped + 1] = { sessionId = sid, reason = why }
  else
    local lease = tonumber(redis.call('ZSCORE', P .. 'ServerLeases', b.serverId))
    -- A server whose lease ran out gets nobody (expireServers ends its game, and with it the request).
    if lease and lease > NOW and room(b) > 0 and (waiting_in(b.mode) > 0 or pooled_in(b.mode) > 0) then
      local pool = pool_of(b.mode)
      if pool == nil then
        -- The scan budget of this call is spent: this request comes first in the next call.
        more = true
        break
      end
      game_summary(t, b.rule.teams)
      if b.rule.skill and t.smin ~= nil then pool = near_pool(b.mode, pool, (t.smin + t.smax) / 2) end
      local w = { b = b, t = t, sid = sid, pids = {}, players = {}, plans = {} }
      local left, most = room(b), 0
      for _, v in ipairs(b.free) do
        if v > most then most = v end
      end
      for _, u in ipairs(pool) do
        if left == 0 then break end
        if not taken[u.p[1]] then
          local team = team_for(b, t, u, most)
          -- A pooled unit whose member has a live ticket of its own in this region stays in the pool.
          if team and u.pooled then
            u.plan = latency_place_read(b.mode, b.rule, { region = REGION, leaders = { u.pooled.pid } }, unit_of)
            if not u.plan then team = nil end
          end
          if team then
            join(b, t, w, u, team)
            left, most = room(b), 0
            for _, v in ipairs(b.free) do
              if v > most then most = v end
            end
          end
        end
      end
      if #w.plans > 0 then
        -- The session's latencies stay within the max of its latencyWaitMs (the widest a join was judged under).
        w.latencyWait = math.max(w.latencyWait, tonumber(redis.call('HGET', P .. 'Session:' .. sid, 'latencyWaitMs')) or 0)
      end
      if #w.pids > 0 then work[#work + 1] = w end
    end
  end
  cursor = seq
end

-- What the joins did to the waiting sessions they took players from (as leaves would).
rules_sessions_rederive(sourceOrder, sources)
local joinPayloads = {}
for k, w in ipairs(work) do
  local b = w.b
  b.joins = b.joins + 1
  w.joinId = b.backfillId .. '.' .. int(b.joins)
  if room(b) == 0 then completed[#completed + 1] = b.backfillId end
  if w.t.units then
    rules_session_derive(w.t)
    w.fields = rules_session_fields(w.t, {})
    local a = w.t.assignment
    if type(a.teams) == 'table' then
      w.fields[#w.fields + 1] = 'teams'
      w.fields[#w.fields + 1] = cjson.encode(a.teams)
    end
    if type(a.quality) == 'table' then
      -- The match's quality as it is now: the joined players count in its spread and team totals.
      a.quality.skillSpread = w.t.smin ~= nil and (w.t.smax - w.t.smin) or 0
      if b.rule.skill and #w.t.totals > 1 then
        local lo, hi = w.t.totals[1], w.t.totals[1]
        for _, v in ipairs(w.t.totals) do
          if v < lo then lo = v end
          if v > hi then hi = v end
        end
        a.quality.teamSkillGap = hi - lo
      end
      w.fields[#w.fields + 1] = 'quality'
      w.fields[#w.fields + 1] = cjson.encode(a.quality)
    end
  end
  w.json = cjson.encode(w.t.assignment)
  -- The announcement: the assignment as it is now, and who joined (the only players it is sent to).
  joinPayloads[k] = string.sub(w.json, 1, -2) .. ',"backfillId":' .. cjson.encode(b.backfillId) .. ',"joinId":' .. cjson.encode(w.joinId) ..
    ',"joined":' .. cjson.encode(w.players) .. '}'
end

-- ---------------------------------------------------------------- writes
for _, sid in ipairs(toDrop) do end_backfill(sid) end
for _, sid in ipairs(sourceOrder) do
  local s = sources[sid]
  if #s.removed > 0 then write_session_shrunk(s) end
end
local leavers = {}
for k, w in ipairs(work) do
  local b = w.b
  local tickets = {}
  for j, x in ipairs(w.players) do tickets[j] = x.ticketId end
  if #w.plans > 0 then
    backfill_write_pooled(b.mode, w.plans, w.sid, retentionText)
    redis.call('HSET', P .. 'Session:' .. w.sid, 'latencyWaitMs', int(w.latencyWait))
    if type(w.t.assignment.playerLatencies) == 'table' then
      redis.call('HSET', P .. 'Session:' .. w.sid, 'latencies', cjson.encode(w.t.assignment.playerLatencies))
    end
  end
  backfill_write_join(w.t, w.pids, tickets, w.json)
  if w.fields then redis.call('HSET', P .. 'Session:' .. w.sid, unpack(w.fields)) end
  redis.call('HINCRBY', P .. 'Session:' .. w.sid, 'joined', int(#w.pids))
  local bkey = P .. 'Backfill:' .. w.sid
  if room(b) == 0 then
    end_backfill(w.sid)
  else
    local texts = {}
    for i, v in ipairs(b.free) do texts[i] = int(v) end
    redis.call('HSET', bkey, 'slots', table.concat(texts, ','), 'joins', int(b.joins))
  end
  redis.call('SET', P .. 'BackfillJoin:' .. w.joinId, joinPayloads[k], 'PX', retentionText)
  redis.call('ZADD', P .. 'BackfillJoinsAnnouncing', NOW_TEXT, w.joinId)
  for _, pid in ipairs(w.pids) do leavers[#leavers + 1] = pid end
end
if #leavers > 0 then
  call_chunked('LPUSH', P .. 'MatchTimes', matchTimes)
  redis.call('LTRIM', P .. 'MatchTimes', 0, 999)
  for mode, n in pairs(waitingDelta) do redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n)) end
  for mode, n in pairs(matchedDelta) do redis.call('HINCRBY', P .. 'MatchedPerMode', mode, int(n)) end
  for mode, bands in pairs(bandDelta) do
    for band, n in pairs(bands) do redis.call('HINCRBY', P .. 'SkillBands:' .. mode, band, int(n)) end
  end
end

local out = '{"joins":[' .. table.concat(joinPayloads, ',') .. '],"dropped":' .. (#dropped > 0 and cjson.encode(dropped) or '[]') ..
  ',"completed":' .. (#completed > 0 and cjson.encode(completed) or '[]') .. ',"cursor":' .. int(cursor) .. ',"more":' .. (more and 'true' or 'false') .. '}'
return out
