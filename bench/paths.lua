-- wrk script: GETs the paths listed one per line in the file given after
-- "--" (in turn, each connection continuing the shared order), and counts
-- the answers by status and by the page cache's X-Cache header (hit,
-- miss, none: rendered without the cache), so a figure says what it
-- measured (and how many came gzip'd). Used by bench/breaking.sh.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local reqs = {}
local k = 0

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    if line:match("^/") then table.insert(reqs, wrk.format("GET", line)) end
  end
  f:close()
  assert(#reqs > 0, "no paths")
  st200, stother, xhit, xmiss, xnone, gz = 0, 0, 0, 0, 0, 0
end

function request()
  k = k + 1
  return reqs[((k - 1) % #reqs) + 1]
end

function response(status, headers, body)
  if status == 200 then st200 = st200 + 1 else stother = stother + 1 end
  local ce = headers["Content-Encoding"] or headers["content-encoding"]
  if ce == "gzip" then gz = gz + 1 end
  local x = headers["X-Cache"] or headers["x-cache"]
  if x == "hit" then
    xhit = xhit + 1
  elseif x == "miss" then
    xmiss = xmiss + 1
  else
    xnone = xnone + 1
  end
end

function done(summary, latency, requests)
  local t = { 0, 0, 0, 0, 0, 0 }
  for _, th in ipairs(threads) do
    t[1] = t[1] + th:get("st200")
    t[2] = t[2] + th:get("stother")
    t[3] = t[3] + th:get("xhit")
    t[4] = t[4] + th:get("xmiss")
    t[5] = t[5] + th:get("xnone")
    t[6] = t[6] + th:get("gz")
  end
  io.write(string.format("XCACHE 200=%d other=%d hit=%d miss=%d none=%d gzip=%d\n",
    t[1], t[2], t[3], t[4], t[5], t[6]))
end
