--- @include "skill_window"
--- @include "session_members"
--- @include "rules_session_read"
--- @include "rules_session_units"
--- @include "rules_session_add"
--- @include "rules_unit_fits"
--- @include "latency_near"
--- @include "latency_candidates"
-- Groups that complete a latency mode's reopened sessions (reads only; the caller writes): a session the pool
-- placed whose member left went back to open in its region (leaveQueue), and only the pool can fill it
-- again. Per region of the slot its oldest open session of the mode, completed by untaken units of that
-- region (pooled, or `fresh`: the calling intake's, not in the indexes yet) within the latency max in force
-- for the wait of its longest-waiting member. A plain mode
-- takes the tickets of lowest latency; a rules mode (skill, teams, parties) takes whole units, lowest latency
-- first (with skill: nearest the session's skill midpoint first, within the window in force), each while it
-- fits as a join would (includes/rules_unit_fits.lua: room, team packing, the skill window for the joined
-- group's longest wait). Returns {region, leaders (the units added), waitMs, existing = {sid, seq, size,
-- latencies, waitMs, session (rules: the session with the units added)}} for latency_place_read; takes the
-- leaders.
local function latency_reopened(mode, rule, taken, unit_of, fresh)
  local groups = {}
  for _, r in ipairs(REGIONS) do
    in_region(r)
    local sid = redis.call('ZRANGE', P .. 'SessionsPerMatchmaking:' .. mode, 0, 0)[1]
    if sid and rule.plain then
      local pids, _, h, waits = session_members(redis.call('HGETALL', P .. 'Session:' .. sid))
      local need = (tonumber(h.capacity) or 0) - #pids
      local oldest
      for _, pid in ipairs(pids) do
        local at = waits[pid]
        if at and (oldest == nil or at < oldest) then oldest = at end
      end
      if h.state == 'open' and need > 0 and oldest then
        local m = skill_window(rule.latency, NOW - oldest)
        local add = {}
        for _, c in ipairs(latency_candidates(mode, rule, r, m, fresh, unit_of, nil)) do
          if #add < need and not taken[c.pid] then add[#add + 1] = c.pid end
        end
        if #add == need then
          for _, pid in ipairs(add) do taken[pid] = true end
          groups[#groups + 1] = { region = r, leaders = add, waitMs = NOW - oldest,
            existing = { sid = sid, seq = tonumber(h.seq), size = #pids, latencies = h.latencies, waitMs = tonumber(h.latencyWaitMs) } }
        end
      end
    elseif sid then
      local s = rules_session_read(sid, rule.skill ~= nil)
      if s and s.state == 'open' and s.mode == mode and s.size < s.capacity and s.oldest then
        local size, oldest = s.size, s.oldest
        local h = redis.call('HMGET', P .. 'Session:' .. sid, 'latencies', 'latencyWaitMs')
        rules_session_units(s)
        local m = skill_window(rule.latency, NOW - s.oldest)
        local near
        if rule.skill then
          near = latency_near(mode, rule, { pid = '', mid = (s.smin + s.smax) / 2 }, skill_window(rule.skill, NOW - s.oldest), fresh, unit_of)
        end
        local add = {}
        for _, c in ipairs(latency_candidates(mode, rule, r, m, fresh, unit_of, near)) do
          if s.size >= s.capacity then break end
          if not taken[c.pid] then
            local u = c.u
            local joining = { p = u.p, s = u.s, at = u.at }
            local placed = rules_unit_fits(rule, s, joining, u.lo, u.hi)
            if placed then
              rules_session_add(s, joining, placed)
              add[#add + 1] = c.pid
            end
          end
        end
        if s.size == s.capacity then
          for _, pid in ipairs(add) do taken[pid] = true end
          groups[#groups + 1] = { region = r, leaders = add, waitMs = NOW - oldest,
            existing = { sid = sid, seq = s.seq, size = size, latencies = h[1] or nil, waitMs = tonumber(h[2]), session = s } }
        end
      end
    end
  end
  return groups
end
