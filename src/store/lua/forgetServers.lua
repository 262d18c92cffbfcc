-- forgetServers: the global index forgets region records that no longer exist (their region retired and
-- fenced their tokens first), and marks a claim's retire tasks done.
-- KEYS[1]   the index's Where key "<prefix>:{_servers}:Where"
-- ARGV[1]   index prefix "<prefix>:{_servers}:"
-- ARGV[2]   JSON {now, items: [{serverId, token, address}], claimant?: {serverId, token}}
-- Reply     JSON {forgotten: n}
-- Compare-and-delete by token: an entry that a newer claim has replaced is kept. An address mapping goes
-- when it still names the server but the server's entry (if any) is at another address. An entry that
-- still has retire tasks of its own is not deleted but kept with token 0 (no record), so no task is lost.
--- @include "index_prologue"
--- @include "get_entry"
--- @include "check_list"

local items = check_list('items', A.items, 1000)
for i, it in ipairs(items) do
  if type(it) ~= 'table' then input_error('items[' .. i .. ']', 'must be an object') end
  check_text('items[' .. i .. '].serverId', it.serverId, '^[A-Za-z0-9_-]+$', 64)
  check_int('items[' .. i .. '].token', it.token, 0, 2 ^ 53)
  if it.address ~= '' then check_text('items[' .. i .. '].address', it.address, '^[%w%[][%w%.:%-%]]*:%d+$', 261) end
end
local claimant = A.claimant
if claimant ~= nil then
  if type(claimant) ~= 'table' then input_error('claimant', 'must be an object') end
  check_text('claimant.serverId', claimant.serverId, '^[A-Za-z0-9_-]+$', 64)
  check_int('claimant.token', claimant.token, 1, 2 ^ 53)
end

local done = {}
local n = 0
for _, it in ipairs(items) do
  done[it.serverId .. ':' .. it.token] = true
  local e = get_entry(it.serverId)
  if e and tonumber(e.token) == it.token and it.token > 0 then
    if e.retire and #e.retire > 0 then
      e.token, e.leaseExpiresAt = 0, 0
      redis.call('HSET', P .. 'Where', it.serverId, cjson.encode(e))
    else
      redis.call('HDEL', P .. 'Where', it.serverId)
      e = nil
    end
    n = n + 1
  end
  if it.address ~= '' and redis.call('HGET', P .. 'Address', it.address) == it.serverId and (not e or e.address ~= it.address) then
    redis.call('HDEL', P .. 'Address', it.address)
  end
end
if claimant then
  local e = get_entry(claimant.serverId)
  if e and tonumber(e.token) == claimant.token and e.retire and #e.retire > 0 then
    local left = {}
    for _, t in ipairs(e.retire) do
      if not done[t.serverId .. ':' .. t.token] then left[#left + 1] = t end
    end
    e.retire = left
    redis.call('HSET', P .. 'Where', claimant.serverId, cjson.encode(e))
  end
end
return cjson.encode({ forgotten = n })
