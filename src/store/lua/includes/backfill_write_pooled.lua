--- @include "detach_matched"
--- @include "latency_unpool"
-- Latency modes (issue 14): pooled units that joined running game `sid` of this region by backfill leave the
-- pool as a placement does (includes/latency_place_write.lua): each member's fresh record in the region
-- (its `latency` to it, `skill`, `party`, `seen`; a matched earlier ticket detached), the unit out of the
-- pool's indexes and counts, the members' pool records `placed` with the region and session (kept for the
-- ticket retention: reads and leaves go on in the region). The session's members and Match:<sid> are
-- backfill_write_join's. plans: includes/latency_place_read.lua's, one per unit. Writes only.
local function backfill_write_pooled(mode, plans, sid, retentionText)
  for _, plan in ipairs(plans) do
    for _, x in ipairs(plan.members) do
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
    for _, u in ipairs(plan.units) do
      latency_unpool(mode, u.pid, u.order, #u.p)
      for _, pid in ipairs(u.p) do
        local qkey = POOL .. 'Player:' .. pid
        redis.call('HSET', qkey, 'state', 'placed', 'region', REGION, 'session', sid)
        redis.call('PEXPIRE', qkey, retentionText)
      end
    end
  end
end
