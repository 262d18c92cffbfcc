-- SessionsWaitingSince holds every open or ready session, scored by the earliest wait start of its members
-- (the stale sweep's and the oldest wait's index; one entry per session, not per player). The score of a
-- session whose members were removed or added is recomputed from the members left: `waits` pid -> wait
-- start, `keep(pid)` whether the member stays (nil: all do), `extra` further wait starts (members added).
-- Returns nil for no member.
local function waiting_since(waits, keep, extra)
  local low
  for pid, at in pairs(waits) do
    if (not keep or keep(pid)) and (not low or at < low) then low = at end
  end
  for _, at in ipairs(extra or {}) do
    if not low or at < low then low = at end
  end
  return low
end
