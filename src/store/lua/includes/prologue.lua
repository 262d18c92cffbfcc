-- The shared locals of every script (the one include that is not a function: every other include's
-- functions close over these, so they come first).
-- KEYS[1] is one real key of the region (it routes the call to the right cluster node).
-- ARGV[1] is the region's key prefix "<prefix>:{<region>}:", ARGV[2] the arguments as JSON (always
-- with `now`, epoch ms, and `region`). Every key a script touches is built from ARGV[1], so all of them
-- carry the same hash tag {<region>} and live in the same hash slot as KEYS[1]: on a Redis Cluster the
-- script never touches another slot (Redis 7 checks this and would refuse a cross-slot access), and it
-- stays one atomic step. The keys cannot all be declared in KEYS because most of them depend on data the
-- script reads (which session a player joins, which players a session holds).
-- Nothing here writes: a malformed call is refused (input_error) before the script's first write.
--- @include "input_error"
--- @include "check_int"
--- @include "check_text"
--- @include "int"
-- A region of a zone (issue 14) has the prefix "<prefix>:{zone.<zone>}:<region>:": its own key names in its
-- zone's hash slot, so the latency scripts can place a group in any region of the zone atomically.
local P = ARGV[1]
local ZONED = type(P) == 'string' and string.find(P, '^[A-Za-z0-9_-]+:{zone%.[a-z0-9][a-z0-9-]*}:[a-z0-9][a-z0-9-]*:$') ~= nil
if type(P) ~= 'string' or not (ZONED or string.find(P, '^[A-Za-z0-9_-]+:{[a-z0-9][a-z0-9-]*}:$')) then
  input_error('ARGV[1]', 'must be the region prefix <prefix>:{<region>}: (or <prefix>:{zone.<zone>}:<region>:)')
end
local ok_args, A = pcall(cjson.decode, ARGV[2] or '')
if not ok_args or type(A) ~= 'table' then input_error('ARGV[2]', 'must be a JSON object') end
local NOW = check_int('now', A.now, 1, 2 ^ 53)
local REGION = check_text('region', A.region, '^[a-z0-9][a-z0-9-]*$', 32)
if string.sub(P, -(#REGION + 3)) ~= (ZONED and '}:' .. REGION .. ':' or '{' .. REGION .. '}:') then input_error('region', 'does not match the key prefix') end
local NOW_TEXT = int(NOW)
