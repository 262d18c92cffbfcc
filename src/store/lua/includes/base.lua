-- Prologue of every script.
-- KEYS[1] is one real key of the region (it routes the call to the right cluster node).
-- ARGV[1] is the region's key prefix "<prefix>:{<region>}:", ARGV[2] the arguments as JSON.
-- Every key a script touches is built from ARGV[1], so all of them carry the same hash tag {<region>}
-- and live in the same hash slot as KEYS[1]: on a Redis Cluster the script never touches another slot
-- (Redis 7 checks this and would refuse a cross-slot access), and it stays one atomic step.
-- The keys cannot all be declared in KEYS because most of them depend on data the script reads
-- (which session a player joins, which players a session holds).
local P = ARGV[1]
local A = cjson.decode(ARGV[2])
local NOW = tonumber(A.now)
local REGION = A.region

local function hgetall(k)
  local flat = redis.call('HGETALL', k)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
