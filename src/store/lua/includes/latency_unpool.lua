-- A pooled ticket leaves the pool's indexes (placed, left or expired): its wait, its latency to each
-- region it may be placed in, and its mode's waiting count. Writes only.
local function latency_unpool(mode, pid, order)
  redis.call('ZREM', POOL .. 'Waiting:' .. mode, pid)
  for _, r in ipairs(order) do redis.call('ZREM', POOL .. 'ByLatency:' .. mode .. ':' .. r, pid) end
  redis.call('HINCRBY', POOL .. 'WaitingPerMode', mode, -1)
end
