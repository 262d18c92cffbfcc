-- durableCompleteActivity: an activity's result (TaskCompleted / TaskFailed) replaces its pending entry, exactly once.
-- KEYS[1]   the instance record (hash)
-- KEYS[2]   the instance's message queue (list)
-- KEYS[3]   the pending activities (hash)
-- ARGV[1]   the activity's field in the pending activities
-- ARGV[2]   the result message (JSON)
-- Reply     integer: 1 when this call removed the entry (the message is queued if the instance is still active), 0 otherwise
--- @include "instance_is_active"

if redis.call('HDEL', KEYS[3], ARGV[1]) == 0 then return 0 end
local _, active = instance_is_active(KEYS[1])
if active then redis.call('RPUSH', KEYS[2], ARGV[2]) end
return 1
