-- wrk script: durable comment posts through the real form, or likes.
-- usage: wrk ... -s bench/post.lua URL -- TARGETS_FILE POST_SECONDS TAG [COOKIES_FILE]
-- Posts: TARGETS_FILE holds "article_id token" lines; requests cycle
-- through them.
-- Likes (COOKIES_FILE given): TARGETS_FILE holds comment ids, one a line,
-- and COOKIES_FILE visitor cookies ("kiji_v=..."), one a line. Request k
-- likes comment ids[k / V] as visitor k mod V (V cookies): every like is a
-- new (comment, visitor) pair, so a new row in the store, as long as the
-- run sends fewer than V x #ids (past that it asks for /robots.txt and
-- counts spent=N: a repeated like is answered 303 too but changes nothing).
-- For POST_SECONDS after its first request each connection POSTs;
-- after that it asks for /robots.txt instead, so that when wrk stops no
-- post is left in flight and the store can be checked against the count.
-- Only 303 answers (the form's success) count.
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
local cookies = {} -- likes: one header table a visitor
local window, tag, head, tail
local k = 0
local deadline
local hdrs = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local getreq

function init(args)
  if args[4] then -- likes
    for line in io.lines(args[1]) do
      local id = line:match("^(%d+)$")
      if id then table.insert(targets, { path = "/comments/" .. id .. "/like" }) end
    end
    for line in io.lines(args[4]) do
      if line:match("^kiji_v=%S+$") then table.insert(cookies, { Cookie = line }) end
    end
    assert(#cookies > 0, "no cookies")
  else
    for line in io.lines(args[1]) do
      local id, tok = line:match("^(%d+)%s+(%S+)$")
      if id then
        table.insert(targets, { path = "/articles/" .. id .. "/comments", tok = urlencode(tok) })
      end
    end
  end
  assert(#targets > 0, "no targets")
  window = tonumber(args[2])
  tag = args[3] or "bench"
  head = "nickname=" .. urlencode(tag) .. "&body=" .. urlencode("ベンチマークからの投稿 ")
  tail = urlencode(" です。コメント数と表示の更新を確かめます。\n\n二段落目: https://example.com/bench も自動リンクになるはず。") ..
    "&token="
  getreq = wrk.format("GET", "/robots.txt")
  n303, nother, nget, nspent, t0, tlast = 0, 0, 0, 0, 0, 0
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
  if #cookies > 0 then
    local v = #cookies
    local j = math.floor(k / v)
    if j >= #targets then -- every (comment, visitor) pair was used
      nspent = nspent + 1
      return getreq
    end
    return wrk.format("POST", targets[j + 1].path, cookies[(k % v) + 1], "")
  end
  local tg = targets[(k % #targets) + 1]
  -- the same bytes as urlencoding the whole body each time (k's digits
  -- need no escaping), without the per-byte gsub that cost wrk more CPU
  -- a post than the server's parsing of it
  local body = head .. k .. tail .. tg.tok
  return wrk.format("POST", tg.path, hdrs, body)
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
  local a, o, g, sp, s, e = 0, 0, 0, 0, math.huge, 0
  for _, t in ipairs(threads) do
    a = a + t:get("n303")
    sp = sp + t:get("nspent")
    o = o + t:get("nother")
    g = g + t:get("nget")
    local ts0, tl = t:get("t0"), t:get("tlast")
    if ts0 > 0 and ts0 < s then s = ts0 end
    if tl > e then e = tl end
  end
  local secs = (e > s) and (e - s) or 0
  io.write(string.format("POSTS ok303=%d other=%d gets=%d spent=%d seconds=%.3f\n",
    a, o, g, sp, secs))
end
