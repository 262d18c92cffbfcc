--- @include "bytes_less"
-- The open sessions of a rules mode that a unit (or a regrouping session) looks at: with skill, the K
-- nearest above and the K nearest below `score` in SessionsBySkill:<mode> (score = midpoint of a session's
-- skill range); without skill, the K oldest in SessionsPerMatchmaking:<mode> (score = seq). Capped work.
-- `cache` (sid -> session table) holds the sessions the calling script has changed but not written yet
-- (it writes last); `cached` lists those of this mode. The answer is what the same query would give on
-- Redis with those changes written: the first K entries of Redis' answer that are not cached (asked again
-- for more when cached ones took places), merged with the cached open sessions that rank among them, in
-- Redis' order (score, then member bytes). So a batch sees exactly what its requests one by one would see.
local RULES_CANDIDATES = 3

local function rules_candidates(mode, rule, score, cache, cached)
  local k = RULES_CANDIDATES
  -- `fetch(n)`: the first n entries of the index in this direction, flat (member, score, ...).
  local function side(fetch, inRange, ascending)
    local want, flat = k, nil
    local rows = {}
    while true do
      flat = fetch(want)
      rows = {}
      for i = 1, #flat, 2 do
        if not cache[flat[i]] then rows[#rows + 1] = { flat[i], tonumber(flat[i + 1]) } end
      end
      if #rows >= k or #flat < 2 * want then break end
      want = want + (k - #rows)
    end
    while #rows > k do rows[#rows] = nil end
    -- Cached open sessions rank among these only up to the last one kept (or anywhere when fewer than K).
    local limit = #rows == k and rows[k][2] or nil
    for _, sid in ipairs(cached) do
      local s = cache[sid]
      local sc = s.indexScore
      if s.state == 'open' and s.size > 0 and inRange(sc) and (limit == nil or (ascending and sc <= limit) or (not ascending and sc >= limit)) then
        rows[#rows + 1] = { sid, sc }
      end
    end
    table.sort(rows, function(a, b)
      if a[2] ~= b[2] then
        if ascending then return a[2] < b[2] end
        return a[2] > b[2]
      end
      if ascending then return bytes_less(a[1], b[1]) end
      return bytes_less(b[1], a[1])
    end)
    local out = {}
    for i = 1, math.min(k, #rows) do out[i] = rows[i][1] end
    return out
  end
  if rule.skill then
    local key = P .. 'SessionsBySkill:' .. mode
    local a = side(function(n) return redis.call('ZRANGEBYSCORE', key, score, '+inf', 'WITHSCORES', 'LIMIT', '0', int(n)) end,
      function(sc) return sc >= score end, true)
    local b = side(function(n) return redis.call('ZREVRANGEBYSCORE', key, score, '-inf', 'WITHSCORES', 'LIMIT', '0', int(n)) end,
      function(sc) return sc <= score end, false)
    local seen, out = {}, {}
    local function add(sid)
      if sid and not seen[sid] then
        seen[sid] = true
        out[#out + 1] = sid
      end
    end
    for i = 1, math.max(#a, #b) do
      add(a[i])
      add(b[i])
    end
    return out
  end
  local key = P .. 'SessionsPerMatchmaking:' .. mode
  return side(function(n) return redis.call('ZRANGE', key, '0', int(n - 1), 'WITHSCORES') end, function() return true end, true)
end
