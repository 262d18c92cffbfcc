-- durableFireTimer: a due durable timer becomes a TimerFired message, exactly once.
-- KEYS[1]   the instance record (hash)
-- KEYS[2]   the instance's message queue (list)
-- KEYS[3]   the timer schedule (sorted set)
-- ARGV[1]   the timer's member in the schedule
-- ARGV[2]   the TimerFired message (JSON)
-- Reply     integer: 1 when this call removed the timer (the message is queued if the instance is still active), 0 otherwise
-- The removal and the hand-over are one step, so a crash leaves either the timer or the message, never both or neither.
--- @include "instance_is_active"

if redis.call('ZREM', KEYS[3], ARGV[1]) == 0 then return 0 end
local _, active = instance_is_active(KEYS[1])
if active then redis.call('RPUSH', KEYS[2], ARGV[2]) end
return 1
