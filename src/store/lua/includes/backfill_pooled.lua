-- Latency modes (issue 14): the units of `mode` waiting in the pool of this region's slot that a backfill
-- in this region may take (reads only): the POOL_SCAN oldest (Waiting:<mode>) and the POOL_SCAN of lowest
-- latency to this region within `widest` (ByLatency:<mode>:<region>; the widest max of the rule: the max in
-- force is judged per unit by the caller), and with `mid` (skill modes: the game's skill midpoint) the
-- NEAR_SCAN nearest above and below it (BySkill:<mode>). `seen`: leader -> its candidate (false: no
-- waiting unit), this call's reads (filled in here): a unit of the mode's base list (read without `mid`,
-- flagged `base`) is not returned again, one near another game is. Each unit as fills take candidates: {pooled = the pool unit
-- (includes/latency_unit.lua), p, tk (every member holds the leader's ticketId), s, at}. unit_of:
-- includes/latency_unit_reader.lua. Returns the units, oldest first, and the players looked at.
local function backfill_pooled(mode, widest, mid, seen, unit_of, POOL_SCAN, NEAR_SCAN)
  local leaders
  if mid then
    local key = POOL .. 'BySkill:' .. mode
    leaders = redis.call('ZRANGEBYSCORE', key, mid, '+inf', 'LIMIT', 0, NEAR_SCAN)
    for _, pid in ipairs(redis.call('ZREVRANGEBYSCORE', key, mid, '-inf', 'LIMIT', 0, NEAR_SCAN)) do leaders[#leaders + 1] = pid end
  else
    leaders = redis.call('ZRANGE', POOL .. 'Waiting:' .. mode, 0, POOL_SCAN - 1)
    local near = redis.call('ZRANGEBYSCORE', POOL .. 'ByLatency:' .. mode .. ':' .. REGION, '-inf', widest, 'LIMIT', 0, POOL_SCAN)
    for _, pid in ipairs(near) do leaders[#leaders + 1] = pid end
  end
  local out, looked = {}, 0
  local listed = {}
  for _, pid in ipairs(leaders) do
    local c = seen[pid]
    if c == nil then
      c = false
      local u = unit_of(pid)
      if u and u.at then
        looked = looked + #u.p
        local tk = {}
        for j = 1, #u.p do tk[j] = u.ticketId end
        c = { pooled = u, p = u.p, tk = tk, s = u.s, at = u.at, base = not mid }
      end
      seen[pid] = c
    end
    if c and not listed[pid] and (not mid or not c.base) then
      listed[pid] = true
      out[#out + 1] = c
    end
  end
  table.sort(out, function(x, y)
    if x.at ~= y.at then return x.at < y.at end
    return x.p[1] < y.p[1]
  end)
  return out, looked
end
