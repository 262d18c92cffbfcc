-- The running game a backfill fills, or nil and why when the session is not an assigned session of that
-- server: {sid, mode, address, assignment (decoded match-made payload), units (rules sessions, decoded)}.
-- Layout-specific: the assignment lives in Match:<sid> (no TTL while the game runs). Reads only; a value
-- that does not decode makes the entry broken (nil, reason), never an error of the whole call.
local function backfill_target(sid, serverId)
  local h = redis.call('HMGET', P .. 'Session:' .. sid, 'mode', 'state', 'server', 'address', 'units')
  if not h[1] then return nil, 'session_gone' end
  if h[2] ~= 'assigned' or h[3] ~= serverId then return nil, 'session_not_running' end
  local ok, a = pcall(cjson.decode, redis.call('GET', P .. 'Match:' .. sid) or '')
  if not ok or type(a) ~= 'table' or type(a.players) ~= 'table' or a.lostAt ~= nil then return nil, 'malformed_session' end
  local t = { sid = sid, mode = h[1], address = h[4], assignment = a }
  if h[5] then
    local okU, units = pcall(cjson.decode, h[5])
    if not okU or type(units) ~= 'table' then return nil, 'malformed_session' end
    t.units = units
  end
  return t
end
