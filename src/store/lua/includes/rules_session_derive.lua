-- A session of a rules mode (skill, teams or parties) as the matching scripts hold it in Lua:
-- {sid, mode, capacity, size, state, seq, units, smin, smax, oldest, sizes}. `units` is the hash field
-- `units` (JSON [{p: [playerIds], s: [skills]?, at: requestedAt, t: team}]); the summary (smin, smax,
-- oldest, sizes = each unit's player count) is derived from it and also kept in the hash (fields smin,
-- smax, oldest, usizes: includes/rules_session_fields.lua), so a candidate is judged without decoding units.
-- Recomputes the summary from the units; returns the player count.
local function rules_session_derive(s)
  local smin, smax, oldest, size, sizes = nil, nil, nil, 0, {}
  for i, u in ipairs(s.units) do
    size = size + #u.p
    sizes[i] = #u.p
    if oldest == nil or u.at < oldest then oldest = u.at end
    if u.s then
      for _, v in ipairs(u.s) do
        if smin == nil or v < smin then smin = v end
        if smax == nil or v > smax then smax = v end
      end
    end
  end
  s.smin, s.smax, s.oldest, s.sizes = smin, smax, oldest, sizes
  return size
end
