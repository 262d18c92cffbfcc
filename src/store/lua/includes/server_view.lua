-- A server's record as the store reads it (with its id).
local function server_view(id, rec)
  rec.serverId = id
  return rec
end
