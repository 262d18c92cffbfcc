-- runtimeLeaseRelease: gives the lease up, only if this runtime still holds it.
-- KEYS[1]   the lease key
-- ARGV[1]   this runtime's lease value
-- Reply     integer: 1 released, 0 not held by this runtime
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
