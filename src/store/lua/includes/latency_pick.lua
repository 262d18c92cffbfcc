--- @include "pack_units"
-- The units a full group of `rule.size` players takes in one region (computes, reads nothing): the anchor
-- unit `a` (latency `la` to the region), then the candidates in the order given (includes/latency_candidates.lua)
-- that are not taken, while the whole unit has room, every unit still packs into teams x teamSize (first
-- fit decreasing, includes/pack_units.lua: a party is never split) and, with a skill window `w`, the
-- group's max(skill) - min(skill) stays within it (and, `lo`/`hi` given, every skill lies in [lo, hi]).
-- Returns {leaders = {pids}, worst, sum} (the members' worst and total latency) when the group is full,
-- else nil.
local function latency_pick(rule, a, la, cands, w, lo, hi, taken)
  if w and (a.hi - a.lo > w or (lo and (a.lo < lo or a.hi > hi))) then return nil end
  local leaders, sizes, total = { a.pid }, { #a.p }, #a.p
  local glo, ghi, worst, sum = a.lo, a.hi, la, la * #a.p
  for _, c in ipairs(cands) do
    if total >= rule.size then break end
    local u = c.u
    local n = u and #u.p or 1
    if c.pid ~= a.pid and not taken[c.pid] and total + n <= rule.size then
      local fits, nlo, nhi = true, glo, ghi
      if w then
        nlo, nhi = math.min(glo, u.lo), math.max(ghi, u.hi)
        fits = nhi - nlo <= w and (not lo or (u.lo >= lo and u.hi <= hi))
      end
      if fits and rule.teams > 1 then
        sizes[#sizes + 1] = n
        if not pack_units(sizes, rule.teams, rule.teamSize) then
          sizes[#sizes] = nil
          fits = false
        end
      end
      if fits then
        leaders[#leaders + 1] = c.pid
        total = total + n
        glo, ghi = nlo, nhi
        if c.ms > worst then worst = c.ms end
        sum = sum + c.ms * n
      end
    end
  end
  if total ~= rule.size then return nil end
  return { leaders = leaders, worst = worst, sum = sum }
end
