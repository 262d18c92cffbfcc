-- MATCHING POLICY (see src/store/MATCHING_POLICY.md): which open session a joining player of `mode` gets.
-- Today: FIFO - the oldest open session of the mode (lowest seq in SessionsPerMatchmaking:<mode>), or nil
-- when there is none (the caller opens a new one, capacity = the mode's size now). Reads only.
-- enqueuePlayers calls it only when the batch is not filling a session of that mode already, and only
-- after writing the session it filled last (flush): so it sees Redis exactly as one-by-one enqueues would
-- have left it (the batch-mirroring invariant). A richer rule (skill window, parties, teams) goes here and
-- must keep that property: decide from Redis plus the batch's own pending state, never from a stale read.
local function policy_open_session(mode)
  return redis.call('ZRANGE', P .. 'SessionsPerMatchmaking:' .. mode, '0', '0')[1]
end
