--- @include "rules_units_keep"
--- @include "rules_session_derive"
-- Rules sessions that lost players (`s.removed` non-empty, `s.gone[pid]` for each) keep only the units of
-- the players still in them and re-derive their summary, as one removal after another would have left them.
-- `order` lists the session ids in the order they were first touched; `sessions` maps id -> session table.
local function rules_sessions_rederive(order, sessions)
  for _, sid in ipairs(order) do
    local s = sessions[sid]
    if #s.removed > 0 and s.units then
      s.units = rules_units_keep(s.units, function(pid) return not s.gone[pid] end)
      rules_session_derive(s)
    end
  end
end
