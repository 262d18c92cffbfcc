-- eventHubsAppend: appends events to one partition of an in-process Event Hub, each with the next sequence number.
-- KEYS[1]   the partition's stream
-- KEYS[2]   the partition's sequence counter
-- ARGV      4 per event: body, partition key ('' = none), properties JSON, enqueued time ms
-- Reply     array of the new stream ids, one per event, in order
if #ARGV % 4 ~= 0 then return redis.error_reply('BADINPUT eventHubsAppend: ARGV must hold 4 values per event') end
for i = 4, #ARGV, 4 do
  if not tonumber(ARGV[i]) then return redis.error_reply('BADINPUT eventHubsAppend: enqueued time is not a number') end
end
local ids = {}
for i = 1, #ARGV, 4 do
  local seq = redis.call('INCR', KEYS[2])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'seq', seq, 'body', ARGV[i], 'pk', ARGV[i + 1], 'props', ARGV[i + 2], 't', ARGV[i + 3])
end
return ids
