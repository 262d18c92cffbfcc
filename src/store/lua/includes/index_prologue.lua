-- The shared locals of the global server index's scripts (what "prologue" is for a region's scripts).
-- KEYS[1] is the index's Where key (it routes the call to the node holding the index's hash slot).
-- ARGV[1] is the index prefix "<prefix>:{_servers}:", ARGV[2] the arguments as JSON (always with `now`).
-- Every key is built from ARGV[1], so all carry the hash tag {_servers} (no region can be named so: region
-- names start with a letter or digit) and the script touches one slot. Nothing here writes.
--- @include "input_error"
--- @include "check_int"
--- @include "check_text"
local P = ARGV[1]
if type(P) ~= 'string' or not string.find(P, '^[A-Za-z0-9_-]+:{_servers}:$') then
  input_error('ARGV[1]', 'must be the server index prefix <prefix>:{_servers}:')
end
local ok_args, A = pcall(cjson.decode, ARGV[2] or '')
if not ok_args or type(A) ~= 'table' then input_error('ARGV[2]', 'must be a JSON object') end
local NOW = check_int('now', A.now, 1, 2 ^ 53)
