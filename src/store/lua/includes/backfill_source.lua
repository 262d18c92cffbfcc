--- @include "session_members"
-- A waiting (open or ready) session of `mode` as fillBackfills.lua may take players from it, or nil (gone,
-- not waiting, another mode): {sid, mode, state, seq, size, units (rules sessions: the decoded `units`
-- field), waits (pid -> wait start, for write_session_shrunk), cands}. `cands` are its whole units still waiting there, each {src, p = {pids}, tk = {ticketIds},
-- s = {skills}?, at}: a party moves whole, a FIFO player is a unit of one. Layout-specific: members are the
-- session's `@<playerId>` fields (value: "<ticketId> <waitStart>"). One read per session, none per player. Reads only;
-- returns the players it looked at as well (the caller's scan budget).
local function backfill_source(sid, mode)
  local flat = redis.call('HGETALL', P .. 'Session:' .. sid)
  local members, ticketOf, h, waits = session_members(flat)
  if h.mode ~= mode or (h.state ~= 'open' and h.state ~= 'ready') then return nil, 0 end
  local s = { sid = sid, mode = h.mode, state = h.state, seq = h.seq, size = tonumber(h.size) or 0, waits = waits, cands = {} }
  -- Members of an open or ready session are waiting (includes/player_state.lua); their member fields say
  -- since when (a member without a wait start is left alone).
  local info = {}
  for _, pid in ipairs(members) do
    if waits[pid] then info[pid] = { ticketOf[pid], waits[pid] } end
  end
  if h.units then
    local ok, units = pcall(cjson.decode, h.units)
    if not ok or type(units) ~= 'table' then return nil, #members end
    s.units = units
    for _, u in ipairs(units) do
      local tk, whole = {}, type(u.p) == 'table' and #u.p > 0
      for j, pid in ipairs(whole and u.p or {}) do
        if not info[pid] then
          whole = false
          break
        end
        tk[j] = info[pid][1]
      end
      if whole then s.cands[#s.cands + 1] = { src = s, p = u.p, tk = tk, s = u.s, at = tonumber(u.at) or NOW } end
    end
  else
    for _, pid in ipairs(members) do
      if info[pid] then s.cands[#s.cands + 1] = { src = s, p = { pid }, tk = { info[pid][1] }, at = info[pid][2] } end
    end
  end
  return s, #members
end
