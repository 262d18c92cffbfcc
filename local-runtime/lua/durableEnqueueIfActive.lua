-- durableEnqueueIfActive: hands a client message (event, terminate) to a Durable instance that still takes messages.
-- KEYS[1]   the instance record (hash)
-- KEYS[2]   the instance's message queue (list)
-- ARGV[1]   the message (JSON)
-- Reply     integer: 0 unknown instance, 2 finished (nothing queued), 1 queued
--- @include "instance_is_active"

local status, active = instance_is_active(KEYS[1])
if not status then return 0 end
if not active then return 2 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
