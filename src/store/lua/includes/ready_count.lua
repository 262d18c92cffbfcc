-- ReadyPerMode hash: mode -> sessions of that mode in SessionsReady. assignSessions reports it (the
-- scale-out signal) on every call; counting it here instead of looking up the mode of every ready session
-- keeps that report O(modes) instead of O(backlog). Every script that adds a session to SessionsReady or
-- removes one from it adjusts the count in the same step (here by what ZADD/ZREM report; enqueuePlayers and
-- assignSessions by the sessions they move themselves), so it is always exact (checkInvariants checks it).
local function ready_count(mode, n)
  redis.call('HINCRBY', P .. 'ReadyPerMode', mode, n)
end
