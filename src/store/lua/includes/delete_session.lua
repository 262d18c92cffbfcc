--- @include "ready_count"
-- Deletes a session and every index entry of it. Session:<id> hash: mode, capacity, size, state
-- (open|ready|assigned), seq, createdAt, region, and once assigned: server, address, assignedAt,
-- assignment (the frozen match-made payload, JSON). `mode` may be nil (then it is read if needed).
local function delete_session(sid, mode)
  if redis.call('ZREM', P .. 'SessionsReady', sid) == 1 then
    local m = mode or redis.call('HGET', P .. 'Session:' .. sid, 'mode')
    if m then ready_count(m, -1) end
  end
  redis.call('DEL', P .. 'Session:' .. sid, P .. 'SessionPlayers:' .. sid)
  if mode then
    redis.call('ZREM', P .. 'SessionsPerMatchmaking:' .. mode, sid)
    redis.call('ZREM', P .. 'SessionsBySkill:' .. mode, sid)
  end
  redis.call('ZREM', P .. 'SessionsCreationTime', sid)
  redis.call('ZREM', P .. 'SessionsAnnouncing', sid)
end
