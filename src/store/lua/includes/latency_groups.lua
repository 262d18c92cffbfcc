--- @include "skill_window"
--- @include "latency_near"
--- @include "latency_candidates"
--- @include "latency_pick"
-- The groups a mode's pooled units form now (reads only; the caller writes). A unit is a solo ticket or a
-- whole party. For each anchor in order (a unit not yet taken), under the latency max and (skill) the skill
-- window in force for the anchor's wait: in each region the anchor may be placed in within that max, the
-- anchor and untaken units of that region within the same max (includes/latency_candidates.lua: lowest
-- latency first; with skill, nearest in skill first), taken whole while they fit (includes/latency_pick.lua:
-- room, team packing, skill spread; with skill, when the nearest-first pick falls short, again with every
-- skill in the window below, then above the anchor's). Of the regions where a full group forms, the one with
-- a free server wins, then the lowest worst latency, then the lowest total, then configured order. Every
-- member is within the max (and the group within the window) of the anchor's wait, at most those in force
-- for the group's longest wait (it waited at least as long). anchors, fresh: units (includes/latency_unit.lua;
-- fresh: this call's, not in the indexes yet); unit_of: includes/latency_unit_reader.lua. free: region ->
-- servers free (read here once per region, counted down per group); taken: leader pid -> true. Reads at most
-- #anchors x (#regions + 2) index ranges, each capped. `maxPlayers`: no anchor is taken up once the groups
-- hold that many players (the first group always may form), so a call's writes are capped. Returns the
-- groups {region, leaders, maxMs, waitMs} (waitMs: the anchor's wait, whose max and window the group was
-- formed under) and how many anchors were taken up.
local function latency_groups(mode, rule, anchors, fresh, free, taken, unit_of, maxPlayers)
  local groups, players, examined = {}, 0, 0
  local function free_in(r)
    if free[r] == nil then
      free[r] = redis.call('ZCARD', RP[r] .. 'ServersAvailable') - redis.call('ZCARD', RP[r] .. 'SessionsReady')
    end
    return free[r]
  end
  for _, a in ipairs(anchors) do
    if players >= maxPlayers then break end
    examined = examined + 1
    if not taken[a.pid] then
      local wait = NOW - a.at
      local m = skill_window(rule.latency, wait)
      local w = rule.skill and skill_window(rule.skill, wait) or nil
      local best, near
      for _, r in ipairs(REGIONS) do
        local la = a.ms[r]
        if la ~= nil and (la or 0) <= m then
          -- Read once per anchor, and only for an anchor that may be placed somewhere now.
          if w and not near then near = latency_near(mode, rule, a, w, fresh, unit_of) end
          local cands = latency_candidates(mode, rule, r, m, fresh, unit_of, near)
          local g = latency_pick(rule, a, la or 0, cands, w, nil, nil, taken)
          if not g and w then
            g = latency_pick(rule, a, la or 0, cands, w, a.hi - w, a.hi, taken) or latency_pick(rule, a, la or 0, cands, w, a.lo, a.lo + w, taken)
          end
          if g then
            local f = free_in(r) > 0
            if not best or (f and not best.free) or (f == best.free and (g.worst < best.maxMs or (g.worst == best.maxMs and g.sum < best.sumMs))) then
              best = { region = r, leaders = g.leaders, maxMs = g.worst, sumMs = g.sum, free = f, waitMs = wait }
            end
          end
        end
      end
      if best then
        for _, pid in ipairs(best.leaders) do taken[pid] = true end
        free[best.region] = free[best.region] - 1
        groups[#groups + 1] = best
        players = players + rule.size
      end
    end
  end
  return groups, examined
end
