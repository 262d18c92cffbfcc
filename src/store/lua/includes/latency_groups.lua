-- The groups a mode's pooled tickets form now (reads only; the caller writes). For each anchor in order
-- (a ticket not yet taken), under the latency max in force for the anchor's wait: in each region the anchor
-- may be placed in within that max, the anchor and the size - 1 other untaken tickets of lowest latency to
-- that region within the same max (the pool's index, plus `fresh`: this call's tickets, not in the index
-- yet). Of the regions where a full group forms, the one with a free server wins, then the lowest worst
-- latency, then the lowest total, then configured order. Every group member is within the max of the
-- anchor's wait, at most the max in force for the group's longest wait (it waited at least as long).
-- anchors, fresh: {pid, at, ms = region -> ms | false (not measured: counts as 0, home region only)}.
-- free: region -> servers free (read here once per region, counted down per group); taken: pid -> true.
-- Reads at most #anchors x #regions index ranges of size + 8 entries. Returns {region, pids, maxMs, waitMs}
-- (waitMs: the anchor's wait, whose max the group was formed under).
local function latency_groups(mode, rule, anchors, fresh, free, taken)
  local groups = {}
  local function free_in(r)
    if free[r] == nil then
      free[r] = redis.call('ZCARD', RP[r] .. 'ServersAvailable') - redis.call('ZCARD', RP[r] .. 'SessionsReady')
    end
    return free[r]
  end
  for _, a in ipairs(anchors) do
    if not taken[a.pid] then
      local m = skill_window(rule, NOW - a.at)
      local best
      for _, r in ipairs(REGIONS) do
        local la = a.ms[r]
        if la ~= nil and (la or 0) <= m then
          local cand = {}
          local flat = redis.call('ZRANGEBYSCORE', POOL .. 'ByLatency:' .. mode .. ':' .. r, '-inf', m, 'WITHSCORES', 'LIMIT', 0, rule.size + 8)
          for k = 1, #flat, 2 do cand[#cand + 1] = { flat[k], tonumber(flat[k + 1]) } end
          for _, f in ipairs(fresh) do
            local lf = f.ms[r]
            if lf ~= nil and (lf or 0) <= m then cand[#cand + 1] = { f.pid, lf or 0 } end
          end
          table.sort(cand, function(x, y) return x[2] < y[2] or (x[2] == y[2] and x[1] < y[1]) end)
          local g, worst, sum = { a.pid }, la or 0, la or 0
          for _, c in ipairs(cand) do
            if #g >= rule.size then break end
            if c[1] ~= a.pid and not taken[c[1]] then
              g[#g + 1] = c[1]
              if c[2] > worst then worst = c[2] end
              sum = sum + c[2]
            end
          end
          if #g == rule.size then
            local f = free_in(r) > 0
            if not best or (f and not best.free) or (f == best.free and (worst < best.maxMs or (worst == best.maxMs and sum < best.sumMs))) then
              best = { region = r, pids = g, maxMs = worst, sumMs = sum, free = f, waitMs = NOW - a.at }
            end
          end
        end
      end
      if best then
        for _, pid in ipairs(best.pids) do taken[pid] = true end
        free[best.region] = free[best.region] - 1
        groups[#groups + 1] = best
      end
    end
  end
  return groups
end
