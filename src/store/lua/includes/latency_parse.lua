-- A pool record's `lat` field ("westeurope=32,northeurope=?": region=ms, "?" = not measured: a ticket
-- without latencies may be placed in its home region only) -> region -> ms (false: not measured), and the
-- regions in order.
local function latency_parse(text)
  local ms, order = {}, {}
  for r, v in string.gmatch(text or '', '([a-z0-9-]+)=([0-9?]+)') do
    ms[r] = v ~= '?' and tonumber(v) or false
    order[#order + 1] = r
  end
  return ms, order
end
