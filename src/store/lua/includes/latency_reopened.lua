-- Groups that complete a latency mode's reopened sessions (reads only; the caller writes): a session the pool
-- placed whose member left went back to open in its region (leaveQueue), and only the pool can fill it
-- again. Per region of the slot its oldest open session of the mode, completed by the untaken pooled
-- tickets of lowest latency to that region within the max in force for the wait of its longest-waiting
-- member (the wait starts its member fields hold). Returns {region, pids (the new members), waitMs, existing = {sid,
-- seq, size, latencies}} for latency_place_read; takes their pids.
local function latency_reopened(mode, rule, taken)
  local groups = {}
  for _, r in ipairs(REGIONS) do
    local sid = redis.call('ZRANGE', RP[r] .. 'SessionsPerMatchmaking:' .. mode, 0, 0)[1]
    if sid then
      local pids, _, h, waits = session_members(redis.call('HGETALL', RP[r] .. 'Session:' .. sid))
      local need = (tonumber(h.capacity) or 0) - #pids
      local oldest
      for _, pid in ipairs(pids) do
        local at = waits[pid]
        if at and (oldest == nil or at < oldest) then oldest = at end
      end
      if h.state == 'open' and need > 0 and oldest then
        local m = skill_window(rule, NOW - oldest)
        local flat = redis.call('ZRANGEBYSCORE', POOL .. 'ByLatency:' .. mode .. ':' .. r, '-inf', m, 'LIMIT', 0, need + 8)
        local add = {}
        for _, pid in ipairs(flat) do
          if #add < need and not taken[pid] then add[#add + 1] = pid end
        end
        if #add == need then
          for _, pid in ipairs(add) do taken[pid] = true end
          groups[#groups + 1] = { region = r, pids = add, waitMs = NOW - oldest,
            existing = { sid = sid, seq = tonumber(h.seq), size = #pids, latencies = h.latencies, waitMs = tonumber(h.latencyWaitMs) } }
        end
      end
    end
  end
  return groups
end
