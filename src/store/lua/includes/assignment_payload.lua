-- The match-made payload of a session given a server, as assignSessions stores it on the session
-- (`assignment`, JSON) and the store reads it back as an Assignment.
local function assignment_payload(sid, serverId, address, players, mode, assignedAt)
  return { sessionId = sid, serverId = serverId, address = address, players = players, mode = mode,
    region = REGION, assignedAt = assignedAt }
end
