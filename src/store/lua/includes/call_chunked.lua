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
