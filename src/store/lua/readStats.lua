-- readStats: queue and pool figures of one region in one consistent read (writes nothing).
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, modes: [mode names], rulesModes: [at most 5 mode names],
--           latencyModes?: [latency mode names]: given to the region that reports its slot's latency pool}
-- Reply     JSON {waitingByMode: {mode: "n"}, waiting, sessionsOpen, sessionsReady, sessionsAnnouncing,
--           serversAvailable, serversAllocated, oldestWaitMs, matchTimes: ["ms", ...],
--           matchedByMode: {mode: "n"} (players ever assigned, a counter for rates),
--           byMode: {mode: {bands: {band: "n"}, recent: ["[spread,gap,wait]", ...]}} for the rulesModes,
--           latencyPool?: {waitingByMode: {mode: "n"}, oldestWaitMs} with latencyModes}
-- from the raw recent time-to-match samples (MatchTimes, newest first, at most 1000).
-- The latency pool (issue 14) is its slot's `<prefix>:{<tag>}:Latency:` keys, which share the region's hash
-- slot (a zone's regions and its pool have one tag): its pooled tickets belong to no region yet, so they are
-- a figure of their own, read in the same consistent step. Its oldest wait: the lowest requestedAt of the
-- modes' wait indexes (Latency:Waiting:<mode>, scored by requestedAt).
--- @include "prologue"
--- @include "check_list"
--- @include "hgetall"

check_list('modes', A.modes, 500)
for _, mode in ipairs(A.modes) do check_text('modes', mode, '^[a-z0-9][a-z0-9_-]*$', 32) end
local latencyModes = A.latencyModes
if latencyModes ~= nil then
  check_list('latencyModes', latencyModes, 500)
  for _, mode in ipairs(latencyModes) do check_text('latencyModes', mode, '^[a-z0-9][a-z0-9_-]*$', 32) end
end
local rulesModes = A.rulesModes or {}
check_list('rulesModes', rulesModes, 5)
for _, mode in ipairs(rulesModes) do check_text('rulesModes', mode, '^[a-z0-9][a-z0-9_-]*$', 32) end
-- Per rules mode: waiting players per skill band, and the quality of the last <= 1000 matches (newest first).
local byMode = {}
for _, mode in ipairs(rulesModes) do
  byMode[mode] = { bands = hgetall(P .. 'SkillBands:' .. mode), recent = redis.call('LRANGE', P .. 'MatchQuality:' .. mode, 0, 999) }
end
local open = 0
for _, mode in ipairs(A.modes) do open = open + redis.call('ZCARD', P .. 'SessionsPerMatchmaking:' .. mode) end
local servers = redis.call('HLEN', P .. 'Servers')
local available = redis.call('ZCARD', P .. 'ServersAvailable')
-- The oldest wait: the lowest score of SessionsWaitingSince (sessions by their earliest member's wait start).
local oldest = redis.call('ZRANGE', P .. 'SessionsWaitingSince', 0, 0, 'WITHSCORES')
local oldestWait = 0
if #oldest == 2 then oldestWait = math.max(0, NOW - tonumber(oldest[2])) end
local waitingByMode = hgetall(P .. 'WaitingPerMode')
local waiting = 0
for _, n in pairs(waitingByMode) do waiting = waiting + (tonumber(n) or 0) end
local latencyPool = nil
if latencyModes ~= nil then
  local POOL = string.match(P, '^(.-{[^}]*}:)') .. 'Latency:'
  local oldestAt = nil
  for _, mode in ipairs(latencyModes) do
    local first = redis.call('ZRANGE', POOL .. 'Waiting:' .. mode, 0, 0, 'WITHSCORES')
    if #first == 2 and (oldestAt == nil or tonumber(first[2]) < oldestAt) then oldestAt = tonumber(first[2]) end
  end
  latencyPool = { waitingByMode = hgetall(POOL .. 'WaitingPerMode'), oldestWaitMs = oldestAt and math.max(0, NOW - oldestAt) or 0 }
end
return cjson.encode({
  waitingByMode = waitingByMode,
  waiting = waiting,
  sessionsOpen = open,
  sessionsReady = redis.call('ZCARD', P .. 'SessionsReady'),
  sessionsAnnouncing = redis.call('ZCARD', P .. 'SessionsAnnouncing'),
  serversAvailable = available,
  serversAllocated = servers - available,
  oldestWaitMs = oldestWait,
  matchTimes = redis.call('LRANGE', P .. 'MatchTimes', 0, -1),
  matchedByMode = hgetall(P .. 'MatchedPerMode'),
  byMode = byMode,
  latencyPool = latencyPool,
})
