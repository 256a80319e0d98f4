-- wrk script: counts answers by status, to prove what was measured
-- (e.g. that If-None-Match runs really got 304s).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  st304, st200, stother = 0, 0, 0
end

function response(status, headers, body)
  if status == 304 then
    st304 = st304 + 1
  elseif status == 200 then
    st200 = st200 + 1
  else
    stother = stother + 1
  end
end

function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("st304")
    b = b + t:get("st200")
    c = c + t:get("stother")
  end
  io.write(string.format("STATUS 304=%d 200=%d other=%d\n", a, b, c))
end
