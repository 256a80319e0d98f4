-- wrk script: durable comment posts through the real form.
-- usage: wrk ... -s bench/post.lua URL -- TARGETS_FILE POST_SECONDS TAG
-- TARGETS_FILE holds "article_id token" lines; requests cycle through them.
-- For POST_SECONDS after its first request each connection POSTs the form;
-- after that it asks for /robots.txt instead, so that when wrk stops no
-- post is left in flight and the store can be checked against the count.
-- Only 303 answers (the form's success) count as posts.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } kiji_timespec;
int clock_gettime(int clk, kiji_timespec *ts);
]]
local ts = ffi.new("kiji_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local targets = {}
local window, tag
local k = 0
local deadline
local hdrs = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local getreq

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local id, tok = line:match("^(%d+)%s+(%S+)$")
    if id then table.insert(targets, { id = id, tok = urlencode(tok) }) end
  end
  f:close()
  assert(#targets > 0, "no targets")
  window = tonumber(args[2])
  tag = args[3] or "bench"
  getreq = wrk.format("GET", "/robots.txt")
  n303, nother, nget, t0, tlast = 0, 0, 0, 0, 0
end

function request()
  local t = now()
  if t0 == 0 then
    t0 = t
    deadline = t + window
  end
  if t > deadline then
    return getreq
  end
  k = k + 1
  local tg = targets[(k % #targets) + 1]
  local body = "nickname=" .. urlencode(tag) ..
    "&body=" .. urlencode("ベンチマークからの投稿 " .. k ..
      " です。コメント数と表示の更新を確かめます。\n\n二段落目: https://example.com/bench も自動リンクになるはず。") ..
    "&token=" .. tg.tok
  return wrk.format("POST", "/articles/" .. tg.id .. "/comments", hdrs, body)
end

function response(status, headers, body)
  if status == 303 then
    n303 = n303 + 1
    tlast = now()
  elseif status == 200 then
    nget = nget + 1
  else
    nother = nother + 1
  end
end

function done(summary, latency, requests)
  local a, o, g, s, e = 0, 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    a = a + t:get("n303")
    o = o + t:get("nother")
    g = g + t:get("nget")
    local ts0, tl = t:get("t0"), t:get("tlast")
    if ts0 > 0 and ts0 < s then s = ts0 end
    if tl > e then e = tl end
  end
  local secs = (e > s) and (e - s) or 0
  io.write(string.format("POSTS ok303=%d other=%d gets=%d seconds=%.3f\n",
    a, o, g, secs))
end
