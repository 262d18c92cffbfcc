-- Refuses a call whose input is malformed. Only ever called before a script's first write (every script
-- checks all of its input first), so a refused call leaves Redis exactly as it was. The store maps the
-- "BADINPUT" error to StoreInputError. SCRIPT_NAME is set by the loader at the top of every script.
local function input_error(field, detail)
  error({ err = 'BADINPUT ' .. SCRIPT_NAME .. ' ' .. field .. ': ' .. detail })
end
