-- expireServers: servers whose lease ran out (no heartbeat), or whose claim window passed before they
-- confirmed their session, leave the pool (retire_server: an unconfirmed session goes back to the FRONT
-- of the ready queue with fresh deadlines, a confirmed one ends as serverLost).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, maxServers, maxPlayers}
-- Reply     JSON {expired: [{serverId, token, address, wasAllocated, sessionId?, reason, session?}], more}
-- Bounded work per call: at most maxServers servers, and no further server once maxPlayers players were
-- touched (one session's players are always done together). `more`: call again.
--- @include "prologue"
--- @include "get_server"
--- @include "retire_server"

local maxServers = check_int('maxServers', A.maxServers, 1, 1000)
local maxPlayers = check_int('maxPlayers', A.maxPlayers, 1, 100000)

local byLease = redis.call('ZRANGEBYSCORE', P .. 'ServerLeases', '-inf', NOW_TEXT, 'LIMIT', 0, maxServers)
local byClaim = redis.call('ZRANGEBYSCORE', P .. 'ServerClaims', '-inf', NOW_TEXT, 'LIMIT', 0, maxServers)
local more = #byLease == maxServers or #byClaim == maxServers
local expired, work, seen = {}, 0, {}

local function due(id, reason)
  if seen[id] then return true end
  if #expired >= maxServers or work >= maxPlayers then
    more = true
    return false
  end
  seen[id] = true
  local rec = get_server(id)
  if not rec then
    -- An index entry without a record (written by an older version): drop it.
    redis.call('ZREM', P .. 'ServerLeases', id)
    redis.call('ZREM', P .. 'ServerClaims', id)
    return true
  end
  if reason == 'claim' and (rec.state ~= 'allocated' or rec.confirmedAt) then
    redis.call('ZREM', P .. 'ServerClaims', id)
    return true
  end
  local entry, w = retire_server(id, rec, reason)
  expired[#expired + 1] = entry
  work = work + w
  return true
end

for _, id in ipairs(byLease) do
  if not due(id, 'lease') then break end
end
for _, id in ipairs(byClaim) do
  if not due(id, 'claim') then break end
end
if #expired == 0 then return '{"expired":[],"more":' .. tostring(more) .. '}' end
return cjson.encode({ expired = expired, more = more })
