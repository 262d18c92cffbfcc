-- Redis 7.0 turns a Lua number given to redis.call into text with snprintf("%.17g"), which costs about as
-- much as a simple command. Hot paths therefore pass integers as strings: int(n) formats one (memoized,
-- since the same values - now, the retention, session sizes - recur throughout a call).
local int_text = {}
local function int(n)
  local s = int_text[n]
  if not s then
    s = string.format('%d', n)
    int_text[n] = s
  end
  return s
end
