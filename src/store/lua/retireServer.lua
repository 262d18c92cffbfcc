-- retireServer: a claim in the global index displaced this region's record of a server (the server moved
-- after its lease ran out, or a new server took over its lapsed address): the record leaves the region
-- as if it had expired, and its token is fenced, before the new record may be written anywhere.
-- KEYS[1]   the region's routing key
-- ARGV[1]   region prefix "<prefix>:{<region>}:"
-- ARGV[2]   JSON {now, region, serverId, token}
-- Reply     JSON {outcome: "retired", expired} | {outcome: "absent" | "newer"}
-- Idempotent: a repeat finds no record ("absent"; the fence stays). A record under a NEWER token is not
-- the one meant and stays ("newer").
--- @include "prologue"
--- @include "get_server"
--- @include "retire_server"

local id = check_text('serverId', A.serverId, '^[A-Za-z0-9_-]+$', 64)
local token = check_int('token', A.token, 1, 2 ^ 53)

local rec = get_server(id)
if rec and (tonumber(rec.token) or 0) > token then return '{"outcome":"newer"}' end
if not rec then
  fence_server(id, token)
  return '{"outcome":"absent"}'
end
local expired = retire_server(id, rec, 'lease')
fence_server(id, token)
return cjson.encode({ outcome = 'retired', expired = expired })
