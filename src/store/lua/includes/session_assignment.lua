-- The assignment of an assigned session (as given out by assignSessions), or nil.
local function session_assignment(sid)
  local a = redis.call('HGET', P .. 'Session:' .. sid, 'assignment')
  if not a then return nil end
  return cjson.decode(a)
end
