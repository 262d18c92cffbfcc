-- The hash fields of a rules session's units and their summary (see rules_session_derive.lua), appended to
-- `fields` (an HSET argument list). Numbers as text that reads back exactly.
local function rules_session_fields(s, fields)
  local sizes = {}
  for i, n in ipairs(s.sizes) do sizes[i] = string.format('%d', n) end
  local n = #fields
  fields[n + 1], fields[n + 2] = 'units', cjson.encode(s.units)
  fields[n + 3], fields[n + 4] = 'usizes', table.concat(sizes, ',')
  fields[n + 5], fields[n + 6] = 'oldest', string.format('%d', s.oldest or 0)
  if s.smin ~= nil then
    fields[n + 7], fields[n + 8] = 'smin', string.format('%.17g', s.smin)
    fields[n + 9], fields[n + 10] = 'smax', string.format('%.17g', s.smax)
  end
  return fields
end
