--- @include "pack_units"
--- @include "rules_session_derive"
--- @include "rules_session_fill"
--- @include "rules_session_fields"
--- @include "skill_band"
--- @include "member_value"
--- @include "latency_member_record"
--- @include "latency_unpool"
-- Places a planned group (latency_place_read) in its region, as enqueuePlayers leaves a session that one
-- batch opened and filled: a new `ready` session (members `@<playerId>` = "<ticketId> <requestedAt>", its
-- SessionsWaitingSince score the earliest of them, `latencyWaitMs` = the wait of the ticket whose max in
-- force the group was formed under, `latencies` = JSON {playerId: ms} of the members that measured it, which
-- assignSessions puts into the match as playerLatencies), each member's fresh record there (its `latency`,
-- and in a rules mode its `skill` and `party` as enqueuePlayers writes them), the region's indexes and
-- counters; in the pool each member's record says `placed` with the region and session (kept for the ticket
-- retention: reads and redeliveries find it) and its unit leaves the pool's indexes. A rules mode's session
-- (skill, teams, parties) is written as enqueuePlayers writes a full one: its units (the team packing
-- latency_pick found) and their summary, then the balanced `teams` and `quality` (includes/rules_session_fill.lua),
-- its players counted in SkillBands and the quality in MatchQuality. A plan that completes a reopened
-- session (plan.existing, includes/latency_reopened.lua) adds its members to that session instead, which
-- becomes ready (`latencyFilledAt` = now). Writes only; returns the session id.
local function latency_place_write(plan, retentionText)
  in_region(plan.region)
  local mode, rule, n, old = plan.mode, plan.rule, #plan.members, plan.existing
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
  if not rule.plain then
    local s = old and old.session
    if not s then
      s = { units = {} }
      local sizes = {}
      for k, u in ipairs(plan.units) do
        s.units[k] = { p = u.p, s = u.s, at = u.at }
        sizes[k] = #u.p
      end
      local placed = rule.teams > 1 and pack_units(sizes, rule.teams, rule.teamSize) or {}
      for k, x in ipairs(s.units) do x.t = placed[k] or 0 end
      rules_session_derive(s)
    end
    rules_session_fill(rule, s)
    rules_session_fields(s, fields)
    for _, v in ipairs({ 'teams', cjson.encode(s.teams), 'quality', cjson.encode(s.quality) }) do fields[#fields + 1] = v end
    local q = s.quality
    redis.call('LPUSH', P .. 'MatchQuality:' .. mode, cjson.encode({ q.skillSpread, q.teamSkillGap, q.waitSeconds }))
    redis.call('LTRIM', P .. 'MatchQuality:' .. mode, 0, 999)
  end
  for _, x in ipairs(plan.members) do
    local u, pid = x.u, x.pid
    fields[#fields + 1] = '@' .. pid
    fields[#fields + 1] = member_value(u.ticketId, u.atText)
    if earliest == nil or u.at < earliest then earliest = u.at end
    local ms = u.ms[REGION]
    if ms then lat[pid] = ms end
    latency_member_record(mode, sid, x)
    if u.sText then redis.call('HINCRBY', P .. 'SkillBands:' .. mode, skill_band(u.s[x.j]), 1) end
  end
  for _, u in ipairs(plan.units) do
    if u.fresh then
      for _, pw in ipairs(u.poolWrites) do
        if pw.existed then redis.call('DEL', pw.key) end
        redis.call('HSET', pw.key, unpack(pw.fields))
      end
    else
      latency_unpool(mode, u.pid, u.order, #u.p)
    end
    for _, pid in ipairs(u.p) do
      local qkey = POOL .. 'Player:' .. pid
      redis.call('HSET', qkey, 'state', 'placed', 'region', REGION, 'session', sid)
      redis.call('PEXPIRE', qkey, retentionText)
    end
  end
  if next(lat) then
    fields[#fields + 1] = 'latencies'
    fields[#fields + 1] = cjson.encode(lat)
  end
  redis.call('HSET', P .. 'Session:' .. sid, unpack(fields))
  redis.call('ZADD', P .. 'SessionsReady', int(seq), sid)
  redis.call('HINCRBY', P .. 'ReadyPerMode', mode, 1)
  if old then
    redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid)
    if rule.skill then redis.call('ZREM', P .. 'SessionsBySkill:' .. mode, sid) end
  else
    redis.call('ZADD', P .. 'SessionsCreationTime', NOW_TEXT, sid)
  end
  redis.call('ZADD', P .. 'SessionsWaitingSince', 'LT', int(earliest), sid)
  redis.call('HINCRBY', P .. 'WaitingPerMode', mode, int(n))
  return sid
end
