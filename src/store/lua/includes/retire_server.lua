--- @include "requeue_session"
--- @include "lose_session"
--- @include "remove_servers"
--- @include "fence_server"
-- Takes a server out of its region for good: its lease ran out (reason "lease"), its claim window passed
-- unconfirmed ("claim"), or a newer claim of the same id or address displaced it. If it was allocated,
-- a session it had not confirmed goes back to the FRONT of the queue with fresh deadlines
-- (requeue_session), a confirmed one is over and its players read serverLost (lose_session). The record's
-- token is fenced. Returns the entry the caller reports (the index forgets it by token) and the work done
-- (1 + players touched).
local function retire_server(id, rec, reason)
  local token = tonumber(rec.token) or 0
  local out = { serverId = id, token = token, address = rec.address, wasAllocated = false, reason = reason }
  local work = 1
  if rec.state == 'allocated' and rec.sessionId then
    out.wasAllocated = true
    out.sessionId = rec.sessionId
    if rec.confirmedAt then
      work = work + lose_session(rec.sessionId)
      out.session = 'lost'
    else
      local requeued, players = requeue_session(rec.sessionId)
      work = work + players
      out.session = requeued and 'requeued' or 'deleted'
    end
  end
  remove_servers({ id })
  fence_server(id, token)
  return out, work
end
