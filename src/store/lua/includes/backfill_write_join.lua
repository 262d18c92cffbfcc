--- @include "member_value"
-- Writes players joining a running game by backfill: members of its session (`@<playerId>` = "<ticketId>
-- <now>": a requeue of the game sets every member's wait start anew anyway),
-- their records pointing at it (they read matched: includes/player_state.lua), the game's assignment in
-- Match:<sid> with them (no TTL while the game runs, as assignSessions writes it). Layout-specific. Writes only.
-- t: backfill_target's table, `assignment` already holding the joined players; json: it encoded.
local function backfill_write_join(t, pids, tickets, json)
  local skey = P .. 'Session:' .. t.sid
  local fields = {}
  for j, pid in ipairs(pids) do
    fields[#fields + 1] = '@' .. pid
    fields[#fields + 1] = member_value(tickets[j], NOW_TEXT)
  end
  redis.call('HSET', skey, unpack(fields))
  redis.call('HINCRBY', skey, 'size', int(#pids))
  redis.call('SET', P .. 'Match:' .. t.sid, json)
  for _, pid in ipairs(pids) do redis.call('HSET', P .. 'Player:' .. pid, 'session', t.sid) end
end
