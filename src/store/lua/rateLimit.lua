-- rateLimit: takes one unit of a fixed-window rate limit, or refuses and then writes nothing.
-- KEYS[1]   the counter "<prefix>:RateLimit:{<subject>}": a subject's own hash slot, so the counters of many
--           players and addresses spread over a cluster's shards (each call touches one key only)
-- ARGV[1]   limit: units per window (integer >= 1)
-- ARGV[2]   window length in ms
-- Reply     JSON {allowed: true, remaining, resetMs} | {allowed: false, remaining: 0, resetMs}
--           resetMs: how long until the window ends (the Retry-After of a refusal)
-- A fixed window: the first unit starts it (SET ... PX window), later ones count up to the limit. Refused
-- calls are not counted, so a client that keeps hammering is served again as soon as its window ends.
-- The window runs on the Redis server's clock: every instance of the app sees the same windows.
--- @include "input_error"
--- @include "check_int"

local key = KEYS[1]
if type(key) ~= 'string' or #key > 200 or not string.find(key, '^[A-Za-z0-9_-]+:RateLimit:{[^{}]+}$') then
  input_error('KEYS[1]', 'must be a counter key <prefix>:RateLimit:{<subject>}')
end
local limit = check_int('limit', ARGV[1], 1, 1000000000)
local window = check_int('windowMs', ARGV[2], 1, 86400000)

local used = tonumber(redis.call('GET', key) or '0') or 0
local ttl = redis.call('PTTL', key)
if ttl < 0 then
  -- No window running (missing key, or a key without expiry, which this script never leaves behind).
  redis.call('SET', key, '1', 'PX', window)
  return cjson.encode({ allowed = true, remaining = limit - 1, resetMs = window })
end
if used >= limit then return cjson.encode({ allowed = false, remaining = 0, resetMs = ttl }) end
used = redis.call('INCR', key)
return cjson.encode({ allowed = true, remaining = limit - used, resetMs = ttl })
