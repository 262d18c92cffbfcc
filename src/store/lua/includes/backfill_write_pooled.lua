--- @include "latency_member_record"
--- @include "latency_unpool"
-- Latency modes (issue 14): pooled units that joined running game `sid` of this region by backfill leave the
-- pool as a placement does (includes/latency_place_write.lua): each member's fresh record in the region
-- (its `latency` to it, `skill`, `party`, `seen`; a matched earlier ticket detached), the unit out of the
-- pool's indexes and counts, the members' pool records `placed` with the region and session (kept for the
-- ticket retention: reads and leaves go on in the region). The session's members and Match:<sid> are
-- backfill_write_join's. plans: includes/latency_place_read.lua's, one per unit. Writes only.
local function backfill_write_pooled(mode, plans, sid, retentionText)
  for _, plan in ipairs(plans) do
    for _, x in ipairs(plan.members) do latency_member_record(mode, sid, x) end
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
