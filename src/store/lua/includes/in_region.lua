-- The region a latency pool script works on next (includes/latency_prologue.lua): P and REGION become its
-- key prefix and name, so the region-layer includes, which build their keys from P, act on that region.
local function in_region(r)
  P, REGION = RP[r], r
end
