-- The game of a session is over (the session is about to be deleted): Match:<sid> and the records of
-- the players still in it (h: the session's fixed fields, members: its `@` fields) are kept for the ticket
-- retention the session was assigned with (`retainMs`) and then expire; until now they had no TTL, so a
-- long game never outlived its players' tickets. `lostAt`: the confirmed server died (the tickets read
-- serverLost), written into Match:<sid> beside the payload. Returns how many players it touched.
local function keep_match(sid, h, members, lostAt)
  local keep = h.retainMs or '1'
  local mkey = P .. 'Match:' .. sid
  if lostAt then
    local json = redis.call('GET', mkey)
    if json then
      local a = cjson.decode(json)
      a.lostAt = lostAt
      redis.call('SET', mkey, cjson.encode(a), 'PX', keep)
    end
  else
    redis.call('PEXPIRE', mkey, keep)
  end
  for _, pid in ipairs(members) do
    local pkey = P .. 'Player:' .. pid
    if redis.call('HGET', pkey, 'session') == sid then redis.call('PEXPIRE', pkey, keep) end
  end
  return #members
end
