--- @include "input_error"
-- A JSON array argument of at most maxLen entries (cjson decodes [] and {} alike to an empty table);
-- returns it. A table with non-sequence keys (a JSON object) is refused.
local function check_list(field, v, maxLen)
  if type(v) ~= 'table' then input_error(field, 'must be an array') end
  local n = #v
  if n > maxLen then input_error(field, 'must have at most ' .. maxLen .. ' entries') end
  for k in pairs(v) do
    if type(k) ~= 'number' or k < 1 or k > n or k % 1 ~= 0 then input_error(field, 'must be an array') end
  end
  return v
end
