-- requestBackfill: a running game asks for replacement players (POST /api/servers/{serverId}/backfill).
-- One open request per session: a new one replaces the old (its remaining slots are dropped, the new
-- request's are what counts). The request confirms the server's claim, as an ack does: a server that asks
-- for players runs the game, so its death from now on ends the game (serverLost) rather than requeueing it.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, sessionId, slots: [free slots per team, in team order], modes, requestId?}
--           (modes: as enqueuePlayers takes them, includes/mode_rules.lua)
-- Reply     JSON {outcome: "requested", backfillId, sessionId, mode, slots, requestedAt, replacedBackfillId?, repeated?}
--           | {outcome: "notAllocated" | "sessionMismatch" | "leaseExpired", currentSessionId?}
--           | {outcome: "rejected", error, detail} | {outcome: "notFound"}
-- Backfill:<sid> hash: backfillId, serverId, mode, slots (remaining per team, "n,m"), requested (as
-- asked), requestedAt, seq, joins (joins announced so far). Backfills zset: sid -> seq. fillBackfills.lua
-- fills it; cancelBackfill.lua, and end_session / lose_session (release, deregister, lease expiry) end it.
-- Redelivery: with a requestId (the caller's, e.g. one per departure), a repeat of the session's last request
-- is answered as it was (`repeated`) and changes nothing, also after that request was filled (the session hash
-- keeps backfillRequest and backfillLast until the game ends). Without one, a repeat is a new request.
--- @include "prologue"
--- @include "check_list"
--- @include "mode_rules"
--- @include "get_server"
--- @include "save_server"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
local sid = check_text('sessionId', A.sessionId, '^[a-z0-9][a-z0-9-]*%.%d+$', 48)
local slots = check_list('slots', A.slots, 100)
if #slots < 1 then input_error('slots', 'must name the free slots of at least one team') end
local total = 0
for i = 1, #slots do
  slots[i] = check_int('slots', slots[i], 0, 100)
  total = total + slots[i]
end
if total < 1 or total > 100 then input_error('slots', 'must add up to 1-100 players') end
local requestId = A.requestId ~= nil and check_text('requestId', A.requestId, '^[A-Za-z0-9_-]+$', 64) or nil
local RULES = mode_rules(A.modes)

-- ---------------------------------------------------------------- reads and decisions
local rec = get_server(id)
if not rec then return '{"outcome":"notFound"}' end
if rec.state ~= 'allocated' or not rec.sessionId then return '{"outcome":"notAllocated"}' end
if rec.sessionId ~= sid then return cjson.encode({ outcome = 'sessionMismatch', currentSessionId = rec.sessionId }) end
local lease = tonumber(redis.call('ZSCORE', P .. 'ServerLeases', id))
if not lease or lease <= NOW then return '{"outcome":"leaseExpired"}' end
local skey = P .. 'Session:' .. sid
local h = redis.call('HMGET', skey, 'mode', 'state', 'server')
if h[2] ~= 'assigned' or h[3] ~= id then return '{"outcome":"notAllocated"}' end
local mode = h[1]
if requestId and redis.call('HGET', skey, 'backfillRequest') == requestId then
  -- A repeat of the session's last request (a retry): answered as it was, nothing changes.
  local ok, last = pcall(cjson.decode, redis.call('HGET', skey, 'backfillLast') or '')
  if ok and type(last) == 'table' then
    last.outcome, last.repeated = 'requested', true
    return cjson.encode(last)
  end
end
local rule = RULES[mode]
if type(rule) ~= 'table' then
  return cjson.encode({ outcome = 'rejected', error = 'unknown_mode', detail = 'the session\'s mode ' .. tostring(mode) .. ' is no longer configured' })
end
if #slots ~= rule.teams then
  return cjson.encode({ outcome = 'rejected', error = 'invalid_slots',
    detail = 'mode ' .. mode .. ' has ' .. rule.teams .. ' team(s): slots must list ' .. rule.teams .. ' number(s), one per team' })
end
for i = 1, #slots do
  if slots[i] > rule.teamSize then
    return cjson.encode({ outcome = 'rejected', error = 'invalid_slots',
      detail = 'team ' .. (i - 1) .. ' has ' .. rule.teamSize .. ' places: it cannot ask for ' .. slots[i] .. ' players' })
  end
end
local bkey = P .. 'Backfill:' .. sid
local replaced = redis.call('HGET', bkey, 'backfillId')
local seq = (tonumber(redis.call('GET', P .. 'BackfillSeq')) or 0) + 1
local backfillId = REGION .. '.b' .. int(seq)
local texts = {}
for i = 1, #slots do texts[i] = int(slots[i]) end
local slotText = table.concat(texts, ',')

-- ---------------------------------------------------------------- writes
redis.call('SET', P .. 'BackfillSeq', int(seq))
if not rec.confirmedAt then
  rec.confirmedAt = NOW
  rec.claimExpiresAt = nil
  redis.call('ZREM', P .. 'ServerClaims', id)
  save_server(id, rec, false)
end
redis.call('DEL', bkey)
redis.call('HSET', bkey, 'backfillId', backfillId, 'serverId', id, 'mode', mode, 'slots', slotText, 'requested', slotText,
  'requestedAt', NOW_TEXT, 'seq', int(seq), 'joins', '0')
redis.call('ZADD', P .. 'Backfills', int(seq), sid)
local out = { outcome = 'requested', backfillId = backfillId, sessionId = sid, mode = mode, slots = slots, requestedAt = NOW }
if replaced then out.replacedBackfillId = replaced end
local json = cjson.encode(out)
if requestId then redis.call('HSET', skey, 'backfillRequest', requestId, 'backfillLast', json) end
return json
