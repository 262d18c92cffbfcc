-- The shared locals of the latency pool's scripts (issue 14; what "prologue" is for a region's scripts).
-- KEYS[1] is one real key of the pool's hash slot (it routes the call on a cluster).
-- ARGV[1] is the pool prefix "<prefix>:{<tag>}:Latency:" (tag: "zone.<zone>" for a zone, else the lone
-- region), ARGV[2] the arguments as JSON with `now` and `regions`: [[region, its key prefix], ...], the
-- regions of the slot in configured order. Each region prefix must be the pool's "<prefix>:{<tag>}:" (a
-- lone region) or "<prefix>:{<tag>}:<region>:" (a zone's region), so every key carries the pool's hash tag
-- and the script touches one slot: a group is placed in any region of a zone in one atomic step.
-- POOL is the pool's prefix. P and REGION are the region being worked on: in_region(r) (includes/in_region.lua)
-- sets them, and the region-layer includes (player_state, detach_matched: they build their keys from P)
-- close over them.
-- Nothing here writes: a malformed call is refused (input_error) before the script's first write.
--- @include "input_error"
--- @include "check_int"
--- @include "check_text"
--- @include "int"
local POOL = ARGV[1]
if type(POOL) ~= 'string' or not string.find(POOL, '^[A-Za-z0-9_-]+:{[a-z0-9][a-z0-9.-]*}:Latency:$') then
  input_error('ARGV[1]', 'must be the latency pool prefix <prefix>:{<tag>}:Latency:')
end
local BASE = string.sub(POOL, 1, -9)
local TAG = string.match(BASE, '{([^}]*)}:$')
local ok_args, A = pcall(cjson.decode, ARGV[2] or '')
if not ok_args or type(A) ~= 'table' then input_error('ARGV[2]', 'must be a JSON object') end
local NOW = check_int('now', A.now, 1, 2 ^ 53)
local NOW_TEXT = int(NOW)
local REGIONS, RP = {}, {}
if type(A.regions) ~= 'table' or #A.regions < 1 or #A.regions > 16 then input_error('regions', 'must list 1-16 [region, prefix] pairs') end
for i, x in ipairs(A.regions) do
  if type(x) ~= 'table' then input_error('regions', 'must list [region, prefix] pairs') end
  local r = check_text('regions', x[1], '^[a-z0-9][a-z0-9-]*$', 32)
  local zoned = string.sub(TAG, 1, 5) == 'zone.'
  local want = zoned and BASE .. r .. ':' or BASE
  if x[2] ~= want or RP[r] or (not zoned and (TAG ~= r or #A.regions ~= 1)) then
    input_error('regions', r .. ': its prefix must be ' .. want .. ' (a region of this slot, listed once)')
  end
  REGIONS[i] = r
  RP[r] = want
end
local P, REGION = RP[REGIONS[1]], REGIONS[1]
