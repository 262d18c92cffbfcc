-- A matched player moves on (new ticket, or a preempting leave): it stops being a member of its assigned
-- session, so no player is ever a member of two sessions. The frozen assignment (Match:<sid>) is
-- unchanged; if that server later expires, the session is requeued without this player. Writes only (the
-- HDEL tells whether it was still a member).
local function detach_matched(pid, sid)
  local skey = P .. 'Session:' .. sid
  if redis.call('HDEL', skey, '@' .. pid) == 1 then redis.call('HINCRBY', skey, 'size', -1) end
end
