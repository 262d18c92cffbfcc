--- @include "input_error"
-- A string argument of 1..maxLen characters that matches the Lua pattern (anchored by the caller).
local function check_text(field, v, pattern, maxLen)
  if type(v) ~= 'string' or #v == 0 or #v > maxLen or not string.find(v, pattern) then
    input_error(field, 'must be a string of 1-' .. maxLen .. ' characters matching ' .. pattern)
  end
  return v
end
