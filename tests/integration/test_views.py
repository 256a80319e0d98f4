"""The view beacon behind the popular ranking, on a site of its own: one
view per visitor, article and day; bots and hidden articles not counted;
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
                    settings={"views.flush_seconds": 3600, "ranking.window": "day"})
    assert not s.stop()
    con = sqlite3.connect(str(s.db), timeout=10)
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


def beacon(s, aid, ua, gif=False, method=None, cookie=None):
    h = {"User-Agent": ua} if ua else {}
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
    """A signed kiji_v cookie, as a reader gets one by liking a comment."""
    cid = s.sql("SELECT c.id FROM comments c JOIN articles a ON a.id = c.article_id"
                " WHERE c.status = 'approved' AND c.type = 'comment' AND a.status = 'published'"
                " LIMIT 1")[0][0]
    v = kiji.Visitor(s)
    r = v.post("/comments/%d/like" % cid, headers={"Accept": "application/json"})
    assert r.status < 400, "like: %d" % r.status
    assert "kiji_v" in v.cookies, "no kiji_v cookie after a like"
    return "kiji_v=" + v.cookies["kiji_v"]


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


def test_views_counted_once_per_visitor_and_written_at_shutdown():
    s = srv()
    ids = s.visible_posts()
    a, b, c = ids[0], ids[1], ids[2]
    for i in range(3):                      # three readers of a
        beacon(s, a, BROWSER % i)
    beacon(s, a, BROWSER % 0)               # repeats: same visitor, same day
    beacon(s, a, BROWSER % 1, gif=True)
    beacon(s, a, BROWSER % 2, gif=True, method="HEAD")
    ck = visitor_cookie(s)                  # one reader with a cookie, two browsers
    beacon(s, a, BROWSER % "cookie-1", cookie=ck)
    beacon(s, a, BROWSER % "cookie-2", cookie=ck, gif=True)
    for i in range(2):                      # two readers of b, without JS
        beacon(s, b, BROWSER % ("b%d" % i), gif=True)
    for ua in BOTS:                         # c is read by bots only
        beacon(s, c, ua)
        beacon(s, c, ua, gif=True)
    r = s.request("POST", "/views/%d" % c, body=b"",   # ... and via another site
                  headers={"User-Agent": BROWSER % "xs", "Sec-Fetch-Site": "cross-site"})
    assert r.status == 204
    hidden = s.sql("SELECT id FROM articles WHERE NOT (status = 'published' AND"
                   " published_at <= ?)", (kiji.now_epoch(),))
    assert hidden, "no hidden article on the views site"
    beacon(s, hidden[0][0], BROWSER % "h")
    beacon(s, 999999, BROWSER % "x")
    r = s.request("GET", "/views/%d" % a)
    assert r.status == 405, "GET /views/<id>: %d, want 405" % r.status
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
    for i in range(6):
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
