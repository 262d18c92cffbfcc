--- @include "latency_unit"
-- A reader of pooled units for one script call (includes/latency_unit.lua), each leader's record read at
-- most once: unit_of(pid) -> the unit, or nil when its record holds no waiting ticket; unit_of(pid, u)
-- makes `u` the unit of pid (a ticket of this call, not written yet). Reads only.
local function latency_unit_reader()
  local cache = {}
  return function(pid, u)
    if u then cache[pid] = u end
    if cache[pid] ~= nil then return cache[pid] or nil end
    local h = redis.call('HMGET', POOL .. 'Player:' .. pid, 'ticketId', 'requestedAt', 'lat', 'party', 'skills', 'state')
    if h[6] ~= 'waiting' or not h[1] then
      cache[pid] = false
      return nil
    end
    u = latency_unit(pid, h[1], h[2], h[3] or nil, h[4] or nil, h[5] or nil)
    cache[pid] = u
    return u
  end
end
