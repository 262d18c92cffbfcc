--- @include "detach_matched"
-- A pooled member's fresh record in this region once its unit is placed in session `sid`, by the pool's
-- placement (latency_place_write) or by a backfill join (backfill_write_pooled): ticket, mode, session, its
-- latency to the region, `seen`, skill and party; a matched earlier ticket is detached first. x: a member of
-- includes/latency_place_read.lua's plan. Writes only.
local function latency_member_record(mode, sid, x)
  local u, pid = x.u, x.pid
  local ms = u.ms[REGION]
  if x.detach then detach_matched(pid, x.detach) end
  local pkey = P .. 'Player:' .. pid
  if x.existed then redis.call('DEL', pkey) end
  local w = { 'ticketId', u.ticketId, 'mode', mode, 'session', sid, 'requestedAt', u.atText }
  if ms then
    w[#w + 1] = 'latency'
    w[#w + 1] = int(ms)
  end
  if x.seen then
    w[#w + 1] = 'seen'
    w[#w + 1] = x.seen
  end
  if u.sText then
    w[#w + 1] = 'skill'
    w[#w + 1] = u.sText[x.j]
  end
  if #u.p > 1 then
    w[#w + 1] = 'party'
    w[#w + 1] = u.party
  end
  redis.call('HSET', pkey, unpack(w))
end
