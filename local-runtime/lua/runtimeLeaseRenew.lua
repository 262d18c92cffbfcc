-- runtimeLeaseRenew: extends the lease of the local runtime that holds it (one runtime per Redis and key prefix),
-- optionally replacing its value (the runtime publishes its URL once it listens).
-- KEYS[1]   the lease key
-- ARGV[1]   this runtime's current lease value (JSON with its id, pid, host and URL)
-- ARGV[2]   the lease time to live, ms
-- ARGV[3]   the new lease value ('' = keep the current one)
-- Reply     integer: 1 renewed, 0 the lease is gone or held by another runtime
if not tonumber(ARGV[2]) then return redis.error_reply('BADINPUT runtimeLeaseRenew: ttl is not a number') end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
