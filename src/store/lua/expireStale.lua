-- expireStale: players and open/ready sessions older than their max age leave with reason "expired".
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, retentionMs, playerMaxAgeMs, sessionMaxAgeMs, max}
-- Reply     JSON {players: [{playerId, ticketId}], sessions: [sessionId]}
-- older than sessionMaxAgeMs (SessionsCreationTime) leave with reason "expired". At most `max` of each
-- per call, to keep the script short; the sweeper calls again on its next tick.
--- @include "prologue"
--- @include "hgetall"
--- @include "player_leave"
--- @include "delete_session"

local retention = check_int('retentionMs', A.retentionMs, 1, 2 ^ 40)
local max = check_int('max', A.max, 1, 100000)
local playerMaxAge = check_int('playerMaxAgeMs', A.playerMaxAgeMs, 0, 2 ^ 40)
local sessionMaxAge = check_int('sessionMaxAgeMs', A.sessionMaxAgeMs, 0, 2 ^ 40)
local players = {}
local sessions = {}

-- Returns true when the player's leave deleted its session, and that session's id.
local function expire_player(pid)
  local p = hgetall(P .. 'Player:' .. pid)
  if p.state == 'waiting' then
    local deleted = player_leave(pid, p, 'expired', retention)
    players[#players + 1] = { playerId = pid, ticketId = p.ticketId }
    return deleted, p.session
  end
  -- Not waiting (should not be indexed): just drop the stray index entry.
  redis.call('ZREM', P .. 'PlayersTimeStartedMatchmaking', pid)
  return false
end

local oldPlayers = redis.call('ZRANGEBYSCORE', P .. 'PlayersTimeStartedMatchmaking', '-inf',
  NOW - playerMaxAge, 'LIMIT', 0, max)
for _, pid in ipairs(oldPlayers) do
  local deleted, sid = expire_player(pid)
  if deleted and sid then sessions[#sessions + 1] = sid end
end

local oldSessions = redis.call('ZRANGEBYSCORE', P .. 'SessionsCreationTime', '-inf',
  NOW - sessionMaxAge, 'LIMIT', 0, max)
for _, sid in ipairs(oldSessions) do
  local skey = P .. 'Session:' .. sid
  local s = redis.call('HMGET', skey, 'state', 'mode')
  if s[1] == 'open' or s[1] == 'ready' then
    for _, pid in ipairs(redis.call('SMEMBERS', P .. 'SessionPlayers:' .. sid)) do
      expire_player(pid)
    end
    -- Normally the last leave deleted it; delete whatever is left (e.g. an inconsistent member).
    if redis.call('EXISTS', skey) == 1 then delete_session(sid, s[2] or nil) end
    sessions[#sessions + 1] = sid
  else
    redis.call('ZREM', P .. 'SessionsCreationTime', sid)
  end
end

return cjson.encode({ players = players, sessions = sessions })
