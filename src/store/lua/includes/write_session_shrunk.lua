--- @include "call_chunked"
--- @include "ready_count"
--- @include "rules_session_fields"
--- @include "rules_session_score"
--- @include "write_session_deleted"
--- @include "waiting_since"
-- Writes what losing waiting members did to an open or ready session (leaves, backfill joins): s = {sid,
-- mode, state, seq, size (before), removed = {pids}, waits = {pid -> wait start of every member before},
-- units?} with its units already kept and derived. An emptied session is deleted; else its `@` members go,
-- its size and units are written, a ready one goes back to open under its original seq, its
-- SessionsWaitingSince score becomes the earliest member left, and a skill session is re-scored in
-- SessionsBySkill. Writes only.
local function write_session_shrunk(s)
  local sid = s.sid
  local skey = P .. 'Session:' .. sid
  local size = s.size - #s.removed
  if size <= 0 then
    write_session_deleted(sid, s.mode, s.state)
    return
  end
  local fields_gone = {}
  for k, pid in ipairs(s.removed) do fields_gone[k] = '@' .. pid end
  call_chunked('HDEL', skey, fields_gone)
  local fields = { 'size', int(size) }
  if s.units then rules_session_fields(s, fields) end
  if s.state == 'ready' then
    fields[#fields + 1] = 'state'
    fields[#fields + 1] = 'open'
    redis.call('HDEL', skey, 'teams', 'quality')
    if redis.call('ZREM', P .. 'SessionsReady', sid) == 1 then ready_count(s.mode, -1) end
    redis.call('ZADD', P .. 'SessionsPerMatchmaking:' .. s.mode, s.seq, sid)
  end
  redis.call('HSET', skey, unpack(fields))
  local gone = {}
  for _, pid in ipairs(s.removed) do gone[pid] = true end
  local since = waiting_since(s.waits, function(pid) return not gone[pid] end)
  if since then redis.call('ZADD', P .. 'SessionsWaitingSince', int(since), sid) end
  if s.units and s.smin ~= nil and (s.state == 'ready' or s.state == 'open') then
    redis.call('ZADD', P .. 'SessionsBySkill:' .. s.mode, rules_session_score(s), sid)
  end
end
