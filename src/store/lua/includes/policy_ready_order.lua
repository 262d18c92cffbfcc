-- MATCHING POLICY (see src/store/MATCHING_POLICY.md): in what order full sessions get servers.
-- Today: oldest first, i.e. the lowest score of SessionsReady (the session's sequence number; a session
-- requeued after its server died gets a score below all others, so it goes first). Returns at most `limit`
-- session ids, in the order they are to be served. Reads only.
local function policy_ready_order(limit)
  return redis.call('ZRANGE', P .. 'SessionsReady', 0, limit - 1)
end
