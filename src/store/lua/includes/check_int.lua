--- @include "input_error"
-- An integer argument (a JSON number, or decimal text as in plain ARGV) within [min, max]; returns it as
-- a number. NaN, infinities, fractions, "0x10", " 1" and tables are refused.
local function check_int(field, v, min, max)
  local n
  if type(v) == 'number' then
    n = v
  elseif type(v) == 'string' and string.find(v, '^%-?%d+$') and #v <= 16 then
    n = tonumber(v)
  end
  if n == nil or n ~= n or n % 1 ~= 0 or n < min or n > max then
    input_error(field, 'must be an integer in [' .. string.format('%.0f', min) .. ', ' .. string.format('%.0f', max) .. ']')
  end
  return n
end
