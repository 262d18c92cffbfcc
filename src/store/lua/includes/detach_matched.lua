-- A matched player moves on (new ticket, or a preempting leave): it stops being a member of its assigned
-- session, so no player is ever a member of two sessions. The frozen assignment payload is unchanged;
-- if that server later expires, the session is requeued without this player.
local function detach_matched(pid, state, sid)
  if state ~= 'matched' or not sid then return end
  if redis.call('SREM', P .. 'SessionPlayers:' .. sid, pid) == 1 then
    redis.call('HINCRBY', P .. 'Session:' .. sid, 'size', -1)
  end
end
