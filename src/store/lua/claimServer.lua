-- claimServer: step 1 of every registration and heartbeat, on the global server index (its own slot):
-- decides which region the server lives in and hands out the claim token its region record must carry.
-- KEYS[1]   the index's Where key "<prefix>:{_servers}:Where"
-- ARGV[1]   index prefix "<prefix>:{_servers}:"
-- ARGV[2]   JSON {now, serverId, address, leaseMs, region?, defaultRegion?}
-- Reply     JSON {outcome: "claimed", region, token, leaseExpiresAt, retire: [{serverId, region, token, address}]}
--           | {outcome: "rejected", error: "region_conflict" | "address_conflict" | "address_in_use", detail,
--              heldBy?, region?, retryAfterMs?}
-- Where: serverId -> {region, token, address, leaseExpiresAt, retire}; Address: address -> serverId; Seq: tokens.
-- A live entry (lease not run out) is a heartbeat: same region, same token; another region or another
-- address is refused (a live server neither moves nor changes address: players were told where it is).
-- A missing or lapsed entry is a registration: a live holder of the address refuses it (address_in_use,
-- free when the holder's lease ends); a lapsed holder, and this id's own lapsed record in another region or
-- at another address, become retire tasks: the caller retires them (fencing their tokens in their regions)
-- BEFORE it writes the new record, and a crash in between leaves the tasks here for the next call.
-- A lapsed entry at the same region and address keeps its token (its region record, if still there, lives on).
--- @include "index_prologue"
--- @include "get_entry"
--- @include "add_retire_task"

local ID_PATTERN = '^[A-Za-z0-9_-]+$'
local REGION_PATTERN = '^[a-z0-9][a-z0-9-]*$'
local id = check_text('serverId', A.serverId, ID_PATTERN, 64)
local address = check_text('address', A.address, '^[%w%[][%w%.:%-%]]*:%d+$', 261)
local leaseMs = check_int('leaseMs', A.leaseMs, 1, 2 ^ 40)
local region = nil
if A.region ~= nil then region = check_text('region', A.region, REGION_PATTERN, 32) end
local defaultRegion = nil
if A.defaultRegion ~= nil then defaultRegion = check_text('defaultRegion', A.defaultRegion, REGION_PATTERN, 32) end
if not region and not defaultRegion then input_error('region', 'region or defaultRegion is required') end

local function rejected(error, detail, extra)
  local out = extra or {}
  out.outcome, out.error, out.detail = 'rejected', error, detail
  return cjson.encode(out)
end

local lease = NOW + leaseMs
local e = get_entry(id)
if e and (tonumber(e.leaseExpiresAt) or 0) > NOW and (tonumber(e.token) or 0) > 0 then
  if region and region ~= e.region then
    return rejected('region_conflict', 'server ' .. id .. ' lives in ' .. e.region .. ' (its lease runs for ' ..
      (e.leaseExpiresAt - NOW) .. ' ms); heartbeat without region, or DELETE it before registering it in ' .. region,
      { region = e.region, retryAfterMs = e.leaseExpiresAt - NOW })
  end
  if address ~= e.address then
    return rejected('address_conflict', 'server ' .. id .. ' is registered at ' .. e.address ..
      '; a live server keeps its address (players are told it): DELETE it, or register under a new id, to use ' .. address,
      { region = e.region })
  end
  local holder = redis.call('HGET', P .. 'Address', address)
  if holder ~= id then
    return rejected('address_in_use', 'address ' .. address .. ' was taken over by ' .. tostring(holder), { heldBy = holder })
  end
  if lease > e.leaseExpiresAt then e.leaseExpiresAt = lease end
  redis.call('HSET', P .. 'Where', id, cjson.encode(e))
  return cjson.encode({ outcome = 'claimed', region = e.region, token = e.token, leaseExpiresAt = e.leaseExpiresAt,
    retire = e.retire or {} })
end

-- A (re)registration.
local retire = (e and e.retire) or {}
local holder = redis.call('HGET', P .. 'Address', address)
if holder and holder ~= id then
  local h = get_entry(holder)
  if h and (tonumber(h.leaseExpiresAt) or 0) > NOW then
    return rejected('address_in_use', 'address ' .. address .. ' belongs to live server ' .. holder .. ' (lease ends in ' ..
      (h.leaseExpiresAt - NOW) .. ' ms); a restarted server waits for that, or DELETEs its old id first',
      { heldBy = holder, region = h.region, retryAfterMs = h.leaseExpiresAt - NOW })
  end
  if h then
    if h.address == address then add_retire_task(retire, holder, h.region, tonumber(h.token), address) end
    -- The lapsed holder's own pending retirements at this address must happen before ours too.
    for _, t in ipairs(h.retire or {}) do
      if t.address == address then add_retire_task(retire, t.serverId, t.region, t.token, t.address) end
    end
  end
end
local target = region or (e and e.region) or defaultRegion
local token = e and tonumber(e.token) or 0
if not (e and token > 0 and e.region == target and e.address == address) then
  if e then add_retire_task(retire, id, e.region, token, e.address) end
  -- An entry without a record (token 0: only its retire tasks were kept) has no retire task of its own
  -- to release its old address later: release it now.
  if e and token == 0 and e.address ~= address and redis.call('HGET', P .. 'Address', e.address) == id then
    redis.call('HDEL', P .. 'Address', e.address)
  end
  token = redis.call('INCR', P .. 'Seq')
end
redis.call('HSET', P .. 'Where', id, cjson.encode({ region = target, token = token, address = address,
  leaseExpiresAt = lease, retire = retire }))
redis.call('HSET', P .. 'Address', address, id)
return cjson.encode({ outcome = 'claimed', region = target, token = token, leaseExpiresAt = lease, retire = retire })
