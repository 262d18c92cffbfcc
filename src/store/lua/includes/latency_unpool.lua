-- A pooled unit (a solo ticket or a whole party, under its leader's id) leaves the pool's indexes (placed,
-- left or expired): its wait, its latency to each region it may be placed in, its skill (skill modes), and
-- its `n` players from its mode's waiting count. Writes only.
local function latency_unpool(mode, leader, order, n)
  redis.call('ZREM', POOL .. 'Waiting:' .. mode, leader)
  for _, r in ipairs(order) do redis.call('ZREM', POOL .. 'ByLatency:' .. mode .. ':' .. r, leader) end
  redis.call('ZREM', POOL .. 'BySkill:' .. mode, leader)
  redis.call('HINCRBY', POOL .. 'WaitingPerMode', mode, int(-n))
end
