-- The units of a session read with rules_session_read (decoded once, when a unit joins or leaves it).
local function rules_session_units(s)
  if not s.units then s.units = cjson.decode(redis.call('HGET', P .. 'Session:' .. s.sid, 'units')) end
  return s.units
end
