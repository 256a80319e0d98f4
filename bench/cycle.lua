-- wrk script: GETs article pages, cycling through the ids listed one per
-- line in the file given after "--", and counts answers by status.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local paths = {}
local k = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local id = line:match("^(%d+)")
    if id then table.insert(paths, wrk.format("GET", "/articles/" .. id)) end
  end
  f:close()
  assert(#paths > 0, "no article ids")
  st200, stother = 0, 0
end

function request()
  k = k + 1
  return paths[((k - 1) % #paths) + 1]
end

function response(status, headers, body)
  if status == 200 then st200 = st200 + 1 else stother = stother + 1 end
end

function done(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("st200")
    b = b + t:get("stother")
  end
  io.write(string.format("STATUS 200=%d other=%d\n", a, b))
end
