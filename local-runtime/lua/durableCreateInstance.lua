-- durableCreateInstance: starts a new execution of an instance id, unless one is still Pending or Running.
-- KEYS[1]   the instance record (hash)
-- KEYS[2]   the instance's history (list)
-- KEYS[3]   the instance's message queue (list)
-- KEYS[4]   the set of Pending/Running instances
-- KEYS[5]   every instance id by creation time (sorted set)
-- ARGV[1]   instanceId   ARGV[2] orchestrator name   ARGV[3] executionId   ARGV[4] input JSON ('' = none)
-- ARGV[5]   now, ISO text   ARGV[6] now, ms   ARGV[7] the ExecutionStarted message (JSON)
-- Reply     integer 1: created (a finished execution is replaced, with a fresh history);
--           or the runtimeStatus of the execution that is still active (Pending or Running): nothing written
--- @include "instance_is_active"

if not tonumber(ARGV[6]) then return redis.error_reply('BADINPUT durableCreateInstance: now ms is not a number') end
local status, active = instance_is_active(KEYS[1])
if active then return status end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'instanceId', ARGV[1], 'name', ARGV[2], 'executionId', ARGV[3], 'runtimeStatus', 'Pending',
  'createdTime', ARGV[5], 'lastUpdatedTime', ARGV[5])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'input', ARGV[4]) end
redis.call('RPUSH', KEYS[3], ARGV[7])
redis.call('SADD', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1])
return 1
