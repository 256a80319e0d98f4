"""The view beacon behind the popular ranking, on a site of its own: one
view per address (an IPv6 /64), article and day whatever the cookie or
User-Agent says, and a budget of counted beacons per address; bots and
hidden articles not counted;
nothing written per view (counts wait in memory); what is waiting is written
at shutdown and shows in /ranking after a restart; with
views.flush_seconds = 1 it shows without one."""

import re
import sqlite3
import time

import kiji

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 t%s"
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.31",
    "Wget/1.21",
    "",
]
_cache = {}


def srv():
    """The views site: no views at all to start with, flushes once an hour
    (so only shutdown writes) until a test lowers it."""
    if "srv" in _cache:
        return _cache["srv"]
    s = kiji.server("views", articles=20, comments=2,
                    settings={"views.flush_seconds": 3600, "ranking.window": "day",
                              "http.trusted_proxies": "127.0.0.1"})
    assert not s.stop()
    con = kiji.connect(s.db)
    try:
        con.execute("DELETE FROM views_daily")
        con.commit()
    finally:
        con.close()
    s.start()
    _cache["srv"] = s
    return s


def views_in_db(s, aid):
    return s.sql("SELECT COALESCE(SUM(count), 0) FROM views_daily WHERE article_id = ?", (aid,))[0][0]


def beacon(s, aid, ua, gif=False, method=None, cookie=None, ip=None):
    """One beacon from ip (X-Forwarded-For; the server trusts 127.0.0.1),
    a fresh address when not given."""
    h = {"User-Agent": ua} if ua else {}
    h["X-Forwarded-For"] = ip or kiji.next_ip()
    if cookie:
        h["Cookie"] = cookie
    if gif:
        r = s.request(method or "GET", "/views/%d.gif" % aid, headers=h)
        if (method or "GET") == "GET":
            assert r.status == 200 and r.content_type == "image/gif", "GIF beacon: %d %r" % (
                r.status, r.header("content-type"))
            assert r.body.startswith(b"GIF89a") and len(r.body) == 43, "not a 1x1 GIF"
    else:
        r = s.request("POST", "/views/%d" % aid, body=b"", headers=h)
        assert r.status == 204 and r.body == b"", "POST beacon: %d, %d bytes" % (r.status, len(r.body))
    assert "no-store" in (r.header("cache-control") or ""), "beacon Cache-Control %r" % (
        r.header("cache-control"))
    return r


def ranking(s):
    """[(article id, views)] as /ranking shows them."""
    d = s.page("/ranking").doc
    out = []
    for li in d.select("ol.ranking-full > li"):
        a = li.select_one("a.rank-title")
        v = li.select_one("span.views")
        assert a is not None and v is not None, "ranking entry without a.rank-title/span.views"
        m = re.fullmatch(r"/articles/(\d+)", a.get("href") or "")
        assert m, "ranking link %r" % a.get("href")
        out.append((int(m.group(1)), int(v.text_norm())))
    return out


def visitor_cookie(s):
    """A signed kiji_v cookie, as the beacon hands one to a reader (of an
    article that does not exist: no view counted)."""
    r = beacon(s, 999999, BROWSER % "ck")
    for k, v in r.header_list:
        if k.lower() == "set-cookie" and v.startswith("kiji_v="):
            return v.split(";", 1)[0]
    raise AssertionError("the view beacon handed out no kiji_v cookie")


def wait_views(s, aid, want, timeout=10):
    """views_daily's count of aid once it reaches want (flush_seconds 1)."""
    deadline = time.time() + timeout
    got = views_in_db(s, aid)
    while got < want and time.time() < deadline:
        time.sleep(0.2)
        got = views_in_db(s, aid)
    return got


def test_article_page_sends_the_beacon():
    s = srv()
    aid = s.visible_posts()[0]
    d = s.page("/articles/%d" % aid).doc
    art = d.select_one("article.entry")
    assert art is not None and art.get("data-id") == str(aid), "article.entry[data-id] missing"
    body = s.page("/articles/%d" % aid).text
    assert re.search(r'<noscript><img[^>]* src="/views/%d\.gif"' % aid, body), \
        "no <noscript> beacon image"
    js = s.get("/static/kiji.js").text
    assert "sendBeacon" in js and "/views/" in js, "kiji.js does not send the view beacon"


def test_views_counted_once_per_address_and_written_at_shutdown():
    s = srv()
    ids = s.visible_posts()
    a, b, c = ids[0], ids[1], ids[2]
    addrs = [kiji.next_ip() for _ in range(4)]
    for i in range(3):                      # three readers of a
        beacon(s, a, BROWSER % i, ip=addrs[i])
    beacon(s, a, BROWSER % 9, ip=addrs[0])  # repeats: same address, same day
    beacon(s, a, BROWSER % 1, gif=True, ip=addrs[1])
    beacon(s, a, BROWSER % 2, gif=True, method="HEAD", ip=addrs[2])
    ck = visitor_cookie(s)                  # a reader with a cookie, two browsers
    beacon(s, a, BROWSER % "cookie-1", cookie=ck, ip=addrs[3])
    beacon(s, a, BROWSER % "cookie-2", cookie=ck, gif=True, ip=addrs[3])
    for i in range(2):                      # two readers of b, without JS
        beacon(s, b, BROWSER % ("b%d" % i), gif=True)
    for ua in BOTS:                         # c is read by bots only
        beacon(s, c, ua)
        beacon(s, c, ua, gif=True)
    r = s.request("POST", "/views/%d" % c, body=b"",   # ... and via another site
                  headers={"User-Agent": BROWSER % "xs", "Sec-Fetch-Site": "cross-site",
                           "X-Forwarded-For": kiji.next_ip()})
    assert r.status == 204
    assert not any(k.lower() == "set-cookie" for k, _ in r.header_list), \
        "a cross-site beacon handed out a cookie"
    time.sleep(1.5)
    assert s.sql("SELECT COUNT(*) FROM views_daily")[0][0] == 0, \
        "views were written per request (flush interval is an hour)"
    assert not s.stop(), "views server did not stop cleanly"
    got = {r[0]: r[1] for r in s.sql("SELECT article_id, SUM(count) FROM views_daily"
                                      " GROUP BY article_id")}
    assert got == {a: 4, b: 2}, "views written at shutdown %s, want {%d: 4, %d: 2}" % (got, a, b)
    s.start()
    rk = ranking(s)
    assert rk[:2] == [(a, 4), (b, 2)], "/ranking after restart: %s" % rk
    side = s.page("/").doc.select("aside#ranking ol.ranking > li a")
    hrefs = [x.get("href") for x in side if (x.get("href") or "").startswith("/articles/")]
    assert hrefs[:2] == ["/articles/%d" % a, "/articles/%d" % b], "side ranking %s" % hrefs


def test_views_flushed_periodically():
    s = srv()
    ids = s.visible_posts()
    a, b, d = ids[0], ids[1], ids[3]
    base_a = views_in_db(s, a)
    s.config_set("views.flush_seconds", 1)
    s.get("/")  # the server reads the new setting on its next request
    for i in range(6):  # six addresses
        beacon(s, d, BROWSER % ("d%d" % i))
    deadline = time.time() + 10
    rk = []
    while time.time() < deadline:
        rk = ranking(s)
        if rk and rk[0] == (d, 6):
            break
        time.sleep(0.3)
    assert rk[:1] == [(d, 6)], "/ranking did not show the flushed views within 10 s: %s" % rk
    assert views_in_db(s, d) == 6
    assert views_in_db(s, a) == base_a
    s.assert_alive()


def test_views_cannot_be_bought_from_one_address():
    """Issue 13: 500 beacons from one address with 500 User-Agents, and
    fresh cookies, are one view; so are many addresses of one IPv6 /64,
    and an IPv4 address written IPv4-mapped. An address past its beacon
    budget (views.rate_burst 60) is not counted even on another article."""
    s = srv()
    s.config_set("views.flush_seconds", 1)
    s.get("/")
    ids = s.visible_posts()
    a, b, c = ids[4], ids[5], ids[6]
    base = {x: views_in_db(s, x) for x in (a, b, c)}
    ip = kiji.next_ip()
    for i in range(500):
        beacon(s, a, BROWSER % ("ua%d" % i), ip=ip, cookie=None if i % 2 else visitor_cookie(s))
    beacon(s, a, BROWSER % "mapped", ip="::ffff:" + ip)
    for net in ("2001:db8:13:1", "2001:db8:13:2"):
        for i in range(20):
            beacon(s, a, BROWSER % ("v6-%d" % i), ip="%s:%x::%x" % (net, i, i * 7 + 1))
    assert wait_views(s, a, base[a] + 3) == base[a] + 3, \
        "views of a: %d, want %d (one address, two /64s)" % (views_in_db(s, a), base[a] + 3)
    # the address spent its budget: a new article from it counts nothing,
    # from a fresh address it counts
    beacon(s, b, BROWSER % "late", ip=ip)
    beacon(s, c, BROWSER % "fresh")
    assert wait_views(s, c, base[c] + 1) == base[c] + 1, "the fresh address's view not counted"
    time.sleep(1.5)  # a flush later: b's view would be there too
    assert views_in_db(s, b) == base[b], "a beacon past the address's budget was counted"
    # and the ranking holds one view for a from those ~540 beacons
    got = dict(ranking(s))
    assert got.get(a) == base[a] + 3, "/ranking shows %r for a" % got.get(a)
    s.assert_alive()
