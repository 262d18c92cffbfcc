-- The pooled units of a skill mode near `a` in skill (reads only): the K nearest above and the K nearest
-- below its skill midpoint within `w` in BySkill:<mode> (score = a unit's skill midpoint; a unit further
-- than the window from the anchor's midpoint can never share a group with it), K = size + 4, plus `fresh`
-- (this call's units, not in the index yet) within the same distance; nearest first (then the leader id).
-- unit_of: includes/latency_unit_reader.lua. Reads at most 2 index ranges and 2K unit records.
local function latency_near(mode, rule, a, w, fresh, unit_of)
  local key = POOL .. 'BySkill:' .. mode
  local k = int(rule.size)
  local out, seen = {}, {}
  local function add(pid)
    if seen[pid] or pid == a.pid then return end
    seen[pid] = true
    local u = unit_of(pid)
    if u then out[#out + 1] = u end
  end
  for _, pid in ipairs(redis.call('ZRANGEBYSCORE', key, a.mid, a.mid + w, 'LIMIT', 0, k)) do add(pid) end
  for _, pid in ipairs(redis.call('ZREVRANGEBYSCORE', key, a.mid, a.mid - w, 'LIMIT', 0, k)) do add(pid) end
  for _, u in ipairs(fresh) do
    if math.abs(u.mid - a.mid) <= w then add(u.pid) end
  end
  table.sort(out, function(x, y)
    local dx, dy = math.abs(x.mid - a.mid), math.abs(y.mid - a.mid)
    if dx ~= dy then return dx < dy end
    return x.pid < y.pid
  end)
  return out
end
