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

-- Redis caps how many values unpack() may spread into one call (Lua's C stack, LUAI_MAXCSTACK = 8000), so
-- a command that takes a whole batch of members goes in chunks. CHUNK is even: ZADD/HSET lists are pairs.
-- `key` may be nil (MGET). Array replies of the chunks are concatenated (MGET, HMGET, ZMSCORE).
local CHUNK = 1000
local function call_chunked(cmd, key, list)
  if #list == 0 then return {} end
  if #list <= CHUNK then
    -- The common case: one call, its reply as is (no copy).
    if key then return redis.call(cmd, key, unpack(list)) end
    return redis.call(cmd, unpack(list))
  end
  local out = {}
  for i = 1, #list, CHUNK do
    local last = math.min(i + CHUNK - 1, #list)
    local reply
    if key then reply = redis.call(cmd, key, unpack(list, i, last)) else reply = redis.call(cmd, unpack(list, i, last)) end
    if type(reply) == 'table' then
      for j = 1, #reply do out[#out + 1] = reply[j] end
    end
  end
  return out
end

-- Redis 7.0 turns a Lua number given to redis.call into text with snprintf("%.17g"), which costs about as
-- much as a simple command. Hot paths therefore pass integers as strings: int(n) formats one (memoized,
-- since the same values - now, the retention, session sizes - recur throughout a call).
local int_text = {}
local function int(n)
  local s = int_text[n]
  if not s then
    s = string.format('%d', n)
    int_text[n] = s
  end
  return s
end
local NOW_TEXT = int(NOW)
