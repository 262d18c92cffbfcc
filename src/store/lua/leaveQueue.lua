-- leaveQueue: players leave the queue (timeout, cancel, or the stale sweeper), a batch of one region, atomically.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, requests: [{playerId, ticketId, reason, mode?, requestedAt?}]}
-- Reply     JSON {results: [one per request, in order: {outcome: "left", reason, sessionId?, partyMembers?}
--           | {outcome: "assigned", assignment} | {outcome: "alreadyLeft", reason} | {outcome: "superseded"}
--           | {outcome: "preempted", reason}]}
-- Whichever of leave and assign reaches Redis first wins: a player whose session already has a server
-- is told the assignment ("assigned") and is not removed.
-- A party leaves whole: a leave by any member takes every member of its ticket out (same reason);
-- `partyMembers` names the others.
-- The player's record is the redelivery guard (no key per ticket): a ticket that is not the record's is
-- "superseded" when the record remembers it (`seen`: an earlier ticket, or one preempted before) or when
-- the record is of a LATER request (requestedAt, the ticket's own, from its token); an old ticket must
-- never touch the newer one. Otherwise the leave overtook its enqueue ("preempted"): the ticket is
-- recorded (a `left` record, or in `seen` of the player's live record) so its late enqueue is a duplicate.
-- A matched player's record reads `waiting` with an assigned session (includes/player_state.lua).
-- Compute first, write last: the requests are decided in order on what was read plus the batch's own
-- pending changes (Lua tables), and every write comes at the end, so a failure leaves nothing behind.
--- @include "prologue"
--- @include "check_list"
--- @include "hgetall"
--- @include "player_assignment"
--- @include "rules_session_derive"
--- @include "rules_session_score"
--- @include "rules_session_fields"
--- @include "rules_units_keep"
--- @include "rules_sessions_rederive"
--- @include "count_band"
--- @include "write_session_shrunk"
--- @include "ready_count"
--- @include "call_chunked"
--- @include "player_state"
--- @include "detach_matched"
--- @include "ticket_seen"
--- @include "tickets_remembered"
--- @include "session_members"
--- @include "waiting_since"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local retentionText = int(retention)
local untilText = int(NOW + retention)   -- how long a preempted ticket stays remembered (includes/tickets_remembered.lua)
-- All input is checked before the first write (Redis does not roll back a script that fails halfway).
local REASONS = { timedOut = true, cancelled = true, expired = true }
check_list('requests', A.requests, 500)
for _, r in ipairs(A.requests) do
  if type(r) ~= 'table' then input_error('requests', 'entries must be objects') end
  check_text('playerId', r.playerId, '^[A-Za-z0-9_-]+$', 64)
  check_text('ticketId', r.ticketId, '^[A-Za-z0-9_-]+$', 64)
  if type(r.reason) ~= 'string' or REASONS[r.reason] ~= true then input_error('reason', 'must be timedOut, cancelled or expired') end
  if r.mode ~= nil then check_text('mode', r.mode, '^[a-z0-9][a-z0-9_-]*$', 32) end
  if r.requestedAt ~= nil then r.requestedAt = check_int('requestedAt', r.requestedAt, 1, 2 ^ 53) end
end

-- ---------------------------------------------------------------- reads and decisions
local recs = {}          -- pid -> the record as this batch has left it
local function rec(pid)
  local p = recs[pid]
  if not p then
    p = hgetall(P .. 'Player:' .. pid)
    p.state = player_state(p)
    recs[pid] = p
  end
  return p
end
local seenWrites, leftWrites, preemptWrites = {}, {}, {}
local waitingDelta, bandDelta = {}, {}

-- Sessions that lose waiting members: sid -> {mode, state, seq, size, units?, waits = {pid -> wait start},
-- removed = {pids}, gone = {pid -> true}}.
local sessions, sessionOrder = {}, {}
local function session_of(sid)
  local s = sessions[sid]
  if s then return s end
  local _, _, h, waits = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
  s = { sid = sid, mode = h.mode, state = h.state, seq = h.seq, size = tonumber(h.size) or 0, waits = waits, removed = {}, gone = {} }
  if h.units then
    s.units = cjson.decode(h.units)
    rules_session_derive(s)
  end
  sessions[sid] = s
  sessionOrder[#sessionOrder + 1] = sid
  return s
end
-- Only real members free a slot (a record pointing at a session it is not in changes nothing there).
local function leave_session(sid, pid)
  local s = session_of(sid)
  if s.gone[pid] or not s.waits[pid] then return end
  s.gone[pid] = true
  s.removed[#s.removed + 1] = pid
end
-- A matched player whose ticket is preempted stops being a member of its assigned session: {pid, sid}.
local detaches = {}

-- The waiting player leaves: its record becomes `left`, its slot is freed.
local function player_leaves(pid, p, reason)
  if p.session then leave_session(p.session, pid) end
  leftWrites[#leftWrites + 1] = { pid, reason }
  if p.mode and p.mode ~= '' then
    waitingDelta[p.mode] = (waitingDelta[p.mode] or 0) - 1
    -- Skill bands count the waiting players of skill modes, whose sessions keep skills in their units.
    local skill = tonumber(p.skill)
    local s = p.session and sessions[p.session]
    if skill and s and s.units and s.units[1] and s.units[1].s then
      count_band(bandDelta, p.mode, skill, -1)
    end
  end
  local left = {}
  for k, v in pairs(p) do left[k] = v end
  left.state, left.leftReason, left.leftAt, left.session = 'left', reason, NOW_TEXT, nil
  recs[pid] = left
end

local results = {}
for i, r in ipairs(A.requests) do
  local p = rec(r.playerId)
  if p.ticketId == r.ticketId then
    if p.state == 'waiting' then
      local sid = p.session
      local others = {}
      if p.party then
        for m in string.gmatch(p.party, '[^,]+') do
          if m ~= r.playerId then
            local q = rec(m)
            if q.ticketId == r.ticketId and q.state == 'waiting' then
              others[#others + 1] = m
              player_leaves(m, q, r.reason)
            end
          end
        end
      end
      player_leaves(r.playerId, p, r.reason)
      results[i] = { outcome = 'left', reason = r.reason, sessionId = sid }
      if #others > 0 then results[i].partyMembers = others end
    elseif p.state == 'matched' then
      results[i] = { outcome = 'assigned', assignment = (player_assignment(r.playerId, p)) }
    else
      results[i] = { outcome = 'alreadyLeft', reason = p.leftReason or r.reason }
    end
  else
    if ticket_seen(p.ticketId, tonumber(p.requestedAt), p.seen, r.ticketId, r.requestedAt) then
      -- This ticket reached us once (or is older than the record's); the player has moved on to another ticket.
      results[i] = { outcome = 'superseded' }
    elseif p.state == 'waiting' then
      -- The leave overtook the request while the player waits with another ticket: that one stays, and this
      -- ticket is remembered so that its late enqueue is a no-op ("duplicate") instead of a ghost player.
      p.seen = (p.seen and p.seen .. ' ' or '') .. r.ticketId .. '@' .. untilText
      seenWrites[#seenWrites + 1] = { r.playerId, p.seen }
      results[i] = { outcome = 'preempted', reason = r.reason }
    else
      -- The leave overtook the request (or the ticket never reached us): a `left` record of this ticket
      -- makes its late enqueue a "duplicate". Its requestedAt is the ticket's, or the replaced record's when
      -- that is later: a record's requestedAt never goes down, so every ticket it ever held stays "older".
      if p.state == 'matched' and p.session then detaches[#detaches + 1] = { r.playerId, p.session } end
      local at = math.max(r.requestedAt or 0, tonumber(p.requestedAt) or 0)
      local kept = tickets_remembered(p.seen, p.ticketId, tonumber(p.requestedAt), at)
      local left = { ticketId = r.ticketId, mode = r.mode or '', state = 'left', leftReason = r.reason, leftAt = NOW_TEXT,
        requestedAt = int(at), seen = (kept and kept .. ' ' or '') .. r.ticketId .. '@' .. untilText }
      preemptWrites[#preemptWrites + 1] = { r.playerId, left }
      recs[r.playerId] = left
      results[i] = { outcome = 'preempted', reason = r.reason }
    end
  end
end

-- What the leaves do to each session (as one leave after another would): the slots are freed, a ready
-- session goes back to open under its original seq, an emptied one is deleted.
rules_sessions_rederive(sessionOrder, sessions)

-- ---------------------------------------------------------------- writes
for _, w in ipairs(leftWrites) do
  local pkey = P .. 'Player:' .. w[1]
  redis.call('HSET', pkey, 'state', 'left', 'leftReason', w[2], 'leftAt', NOW_TEXT)
  redis.call('HDEL', pkey, 'session')
  redis.call('PEXPIRE', pkey, retentionText)
end
for mode, n in pairs(waitingDelta) do redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n)) end
for mode, b in pairs(bandDelta) do
  for band, n in pairs(b) do redis.call('HINCRBY', P .. 'SkillBands:' .. mode, band, int(n)) end
end
for _, sid in ipairs(sessionOrder) do
  local s = sessions[sid]
  if #s.removed > 0 then write_session_shrunk(s) end
end
for _, d in ipairs(detaches) do detach_matched(d[1], d[2]) end
for _, w in ipairs(preemptWrites) do
  local pkey = P .. 'Player:' .. w[1]
  local l = w[2]
  redis.call('DEL', pkey)
  redis.call('HSET', pkey, 'ticketId', l.ticketId, 'mode', l.mode, 'state', 'left', 'leftReason', l.leftReason, 'leftAt', l.leftAt,
    'requestedAt', l.requestedAt)
  if l.seen then redis.call('HSET', pkey, 'seen', l.seen) end
  redis.call('PEXPIRE', pkey, retentionText)
end
for _, w in ipairs(seenWrites) do redis.call('HSET', P .. 'Player:' .. w[1], 'seen', w[2]) end

return cjson.encode({ results = results })
