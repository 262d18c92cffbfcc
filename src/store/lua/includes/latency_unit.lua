--- @include "latency_parse"
-- A pooled unit (a solo ticket or a whole party, under its leader's id) from the texts of its leader's pool
-- record: `lat` (includes/latency_parse.lua), `party` (every member id, leader first, comma-separated; nil
-- for a solo ticket) and `skills` (the members' skills in the same order, comma-separated; nil without
-- skill). Returns {pid, ticketId, atText, at, ms, order, lat, party, skills, p = {ids}, s = {skills}?,
-- sText = {texts}?, lo, hi, mid} (lo, hi, mid: the skill range and its midpoint; 0 without skill).
local function latency_unit(pid, ticketId, atText, lat, party, skills)
  local ms, order = latency_parse(lat)
  local u = { pid = pid, ticketId = ticketId, atText = atText, at = tonumber(atText), ms = ms, order = order, lat = lat, party = party,
    skills = skills, p = {}, lo = 0, hi = 0 }
  if party then
    for m in string.gmatch(party, '[^,]+') do u.p[#u.p + 1] = m end
  else
    u.p[1] = pid
  end
  if skills then
    u.s, u.sText = {}, {}
    for v in string.gmatch(skills, '[^,]+') do
      local n = tonumber(v)
      u.s[#u.s + 1] = n
      u.sText[#u.sText + 1] = v
      if #u.s == 1 or n < u.lo then u.lo = n end
      if #u.s == 1 or n > u.hi then u.hi = n end
    end
  end
  u.mid = (u.lo + u.hi) / 2
  return u
end
