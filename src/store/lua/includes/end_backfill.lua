-- The backfill request of a session ends (cancelled, or its game is over: release, deregister, the server's
-- death). Writes only, so a script that reads everything first may call it in its write phase. Joins
-- already made stand; their announcements (BackfillJoinsAnnouncing) still go out.
local function end_backfill(sid)
  redis.call('DEL', P .. 'Backfill:' .. sid)
  redis.call('ZREM', P .. 'Backfills', sid)
end
