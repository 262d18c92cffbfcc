--- @include "rules_session_score"
-- A rules session's summary as read from its hash (no units decoded: rules_session_units does that when
-- needed): {sid, mode, capacity, state, seq, size, smin, smax, oldest, sizes, indexScore}, or nil when the
-- session is gone or not a rules session. `skill`: the mode matches by skill (index score = skill midpoint,
-- else seq).
local function rules_session_read(sid, skill)
  local h = redis.call('HMGET', P .. 'Session:' .. sid, 'mode', 'capacity', 'state', 'seq', 'size', 'usizes', 'oldest', 'smin', 'smax')
  if not h[1] or not h[6] then return nil end
  local sizes = {}
  for n in string.gmatch(h[6], '[0-9]+') do sizes[#sizes + 1] = tonumber(n) end
  local s = { sid = sid, mode = h[1], capacity = tonumber(h[2]), state = h[3], seq = tonumber(h[4]), size = tonumber(h[5]), sizes = sizes,
    oldest = tonumber(h[7]), smin = tonumber(h[8]), smax = tonumber(h[9]) }
  if skill then s.indexScore = rules_session_score(s) else s.indexScore = s.seq end
  return s
end
