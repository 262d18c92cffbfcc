-- Byte order of two strings, as Redis orders sorted-set members of equal score (memcmp). Lua's `<` on
-- strings follows the C locale's collation, which need not be byte order.
local function bytes_less(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
