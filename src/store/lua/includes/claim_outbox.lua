--- @include "call_chunked"
-- An outbox zset (member -> last (re)send time): the entries last sent at or before `before`, at most `max`,
-- are re-stamped NOW and returned as `payload(id)` gives them; an entry whose payload is gone is dropped from
-- the outbox instead. Reads first, writes last (a failure can only happen before the first write).
-- Returns the payloads and how many ids were looked at (== max: there may be more).
local function claim_outbox(outbox, before, max, payload)
  local ids = redis.call('ZRANGEBYSCORE', outbox, '-inf', before, 'LIMIT', 0, max)
  local out, restamp, gone = {}, {}, {}
  for _, id in ipairs(ids) do
    local p = payload(id)
    if p then
      restamp[#restamp + 1] = NOW_TEXT
      restamp[#restamp + 1] = id
      out[#out + 1] = p
    else
      gone[#gone + 1] = id
    end
  end
  call_chunked('ZADD', outbox, restamp)
  call_chunked('ZREM', outbox, gone)
  return out, #ids
end
