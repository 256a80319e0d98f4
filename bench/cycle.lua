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
end

function request()
  k = k + 1
  return paths[((k - 1) % #paths) + 1]
end

-- No response() callback: with one, wrk copies every body into Lua (a
-- 40-80 KB page each time), which cost wrk a good part of its core on
-- the same two cores as the server. wrk counts answers of 400 and up
-- itself (summary.errors.status); "200" below is every other answer.
function done(summary, latency, requests)
  local other = summary.errors.status
  io.write(string.format("STATUS 200=%d other=%d\n", summary.requests - other, other))
end
