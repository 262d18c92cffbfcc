--- @include "input_error"
-- A skill as a request carries it (plain ARGV text): "" = none (nil), else a number in [-1e9, 1e9]; anything
-- else is refused before the script's first write.
local function skill_text(field, v)
  if v == '' then return nil end
  local n = tonumber(v)
  if type(v) ~= 'string' or #v > 24 or not string.find(v, '^%-?[0-9][0-9.eE+-]*$') or n == nil or n ~= n or n > 1e9 or n < -1e9 then
    input_error(field, 'must be "" or a number in [-1e9, 1e9]')
  end
  return n
end
