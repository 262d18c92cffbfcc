--- @include "ready_count"
--- @include "drop_session_keys"
-- Deletes a session and every index entry of it, finding out itself whether it was ready (for scripts
-- that have not read its state; write_session_deleted is the writes-only form). Session:<id> hash: mode,
-- capacity, size, state (open|ready|assigned), seq, createdAt, the members `@<playerId>`, and once
-- assigned: server, address, assignedAt, retainMs. `mode` may be nil (then it is read if needed).
local function delete_session(sid, mode)
  if redis.call('ZREM', P .. 'SessionsReady', sid) == 1 then
    local m = mode or redis.call('HGET', P .. 'Session:' .. sid, 'mode')
    if m then ready_count(m, -1) end
  end
  drop_session_keys(sid, mode)
end
