"""Abuse from outside (issue 13, items 3, 4 and 7), tried as an attacker
would on a site of its own:

- cache flooding: a query string the attacker picks (?page=N where there
  are no pages, a page past the last, ?x=, ?replytocom=, a forged kiji_p
  cookie) never adds a cache entry nor evicts one, and a warm article
  stays a hit;
- forged likes: another site's page cannot like or post (403), cookie-less
  likes count once per address, a fresh cookie per like is not to be had
  past the address's budget, and 20 likes sent at once by a browser that
  has just opened the page count once;
- IPv6: the rate limits take a /64 as one address.

Own server "abuse": http.trusted_proxies=127.0.0.1 (each client sends its
own X-Forwarded-For) and http.origin_allow naming a static copy's origin.
Test builds (-DKIJI_TEST_HOOKS) put the page cache's counters on
/robots.txt (X-Test-Cache); without them only the hits are checked."""

import json
import re
import threading
import uuid

import kiji
import test_comments as tc
from kiji import Visitor, next_ip

JSON = {"Accept": "application/json"}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
STATIC = "https://static.example"


def srv():
    return kiji.server("abuse", articles=12, comments=3, seed=13,
                       settings={"http.trusted_proxies": "127.0.0.1",
                                 "http.origin_allow": STATIC, "listing.per_page": 3})


def open_article():
    ids = tc.open_articles(srv())
    assert ids, "abuse demo has no article open for comments"
    return ids[0]


def fresh_comment():
    aid = open_article()
    cid = tc.new_comment(Visitor(srv(), ip=next_ip()), aid, "的 " + uuid.uuid4().hex[:10])
    return aid, cid


def like_count(cid):
    return srv().sql("SELECT like_count FROM comments WHERE id = ?", (cid,))[0][0]


def beacon(v, aid):
    """What the article page's script does on load: the view beacon."""
    r = v.request("POST", "/views/%d" % aid, body=b"", headers={"User-Agent": BROWSER})
    assert r.status == 204, "view beacon: %d" % r.status
    return r


def cache_stats(s):
    """(entries, puts, evictions) of the page cache, or None in a build
    without test hooks."""
    h = s.get("/robots.txt").header("x-test-cache")
    if h is None:
        return None
    d = dict(kv.split("=") for kv in h.split())
    return int(d["entries"]), int(d["puts"]), int(d["evictions"])


def x_cache(s, path, headers=None):
    r = s.request("GET", path, headers=headers)
    assert r.status == 200, "GET %s: %d" % (path, r.status)
    return r.header("x-cache")


# ---- item 3: cache flooding ---------------------------------------------------------------

def test_attacker_query_strings_never_enter_the_cache():
    s = srv()
    arts = s.visible_posts()[:4]
    cat = s.sql("SELECT c.slug FROM categories c JOIN articles a ON a.category_id = c.id"
                " WHERE a.id = ?", (arts[0],))[0][0]
    page = s.sql("SELECT id FROM articles WHERE kind = 'page' AND status = 'published' LIMIT 1")
    warm = ["/articles/%d" % a for a in arts] + ["/", "/feed", "/category/%s" % cat]
    for p in warm:
        x_cache(s, p)
    for p in warm:
        assert x_cache(s, p) == "hit", "%s is not warm" % p
    before = cache_stats(s)

    # pages where there are none: 404, whatever N
    no_pages = ["/articles/%d" % arts[0], "/feed", "/feed/atom", "/sitemap.xml",
                "/articles/%d/feed" % arts[0], "/category/%s/feed" % cat, "/ranking"]
    if page:
        r = s.get("/articles/%d" % page[0][0])
        if r.status in (301, 308) and r.header("location"):
            no_pages.append(r.header("location"))
    for i in range(40):
        for p in no_pages:
            n = 2 + i * 104729 % 9999999
            r = s.get("%s?page=%d" % (p, n))
            assert r.status == 404, "%s?page=%d: %d, want 404" % (p, n, r.status)
    for p in no_pages:
        assert s.get(p + "?page=1").status == 404, "%s?page=1 is not 404" % p
    # listings: past the last page, and pages not spelled canonically
    for p in ("/", "/category/%s" % cat):
        for q in ("page=999999", "page=5000", "page=01", "page=0", "page=2x", "page=-1"):
            r = s.get("%s?%s" % (p, q))
            assert r.status == 404, "%s?%s: %d, want 404" % (p, q, r.status)
    # bypasses: answered, uncached, not admitted
    for i in range(40):
        for q in ("x=%s" % uuid.uuid4().hex, "replytocom=%d" % (i + 1), "csort=new&r=%d" % i):
            r = s.get("/articles/%d?%s" % (arts[1], q))
            assert r.status == 200 and r.header("x-cache") is None, \
                "?%s: %d, X-Cache %r" % (q, r.status, r.header("x-cache"))
        r = s.get("/articles/%d" % arts[2], headers={"Cookie": "kiji_p=%d.%d" % (arts[2], i)})
        assert r.status == 200 and r.header("x-cache") is None, \
            "forged kiji_p: %d, X-Cache %r" % (r.status, r.header("x-cache"))

    after = cache_stats(s)
    if kiji.kiji_bin().parent.name == "asan":
        assert before is not None, "the test build has no X-Test-Cache on /robots.txt"
    if before is not None:
        assert after == before, "cache (entries, puts, evictions) %r -> %r" % (before, after)
    for p in warm:
        assert x_cache(s, p) == "hit", "%s is no longer a hit after the flood" % p


def test_listing_pages_still_cached():
    """The one place ?page= belongs keeps working, and is cached."""
    s = srv()
    r = s.get("/")
    assert re.search(r'href="/\?page=2"', r.text), "no link to /?page=2 (3 per page)"
    assert s.get("/?page=2").status == 200
    assert x_cache(s, "/?page=2") == "hit", "/?page=2 is not cached"


# ---- item 4: forged likes and posts ------------------------------------------------------

def test_cross_origin_like_and_form_post_are_403():
    s = srv()
    aid, cid = fresh_comment()
    v = Visitor(s, ip=next_ip())
    beacon(v, aid)
    before = like_count(cid)
    for origin in ("http://evil.example", "null", s.origin + ".evil.example"):
        for h in (dict(JSON, Origin=origin), {"Origin": origin}):
            r = v.post("/comments/%d/like" % cid, body=b"", headers=h)
            assert r.status == 403, "like with Origin %s: %d" % (origin, r.status)
        r = v.post("/comments/%d/like" % cid, body=b"",
                   headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status == 403, "like with Sec-Fetch-Site cross-site: %d" % r.status
        body = "他所から " + uuid.uuid4().hex[:10]
        f = {"nickname": "", "body": body, "parent": "0", "token": tc.token_of(v, aid),
             "url": "", "opened": ""}
        r = v.post("/articles/%d/comments" % aid, f, headers={"Origin": origin})
        assert r.status == 403, "form post with Origin %s: %d" % (origin, r.status)
        assert tc.count_with(s, body) == 0, "a cross-origin comment was stored"
    assert like_count(cid) == before, "a cross-origin like counted"
    # same origin and the allowed static copy's origin pass
    r = v.post("/comments/%d/like" % cid, body=b"", headers=dict(JSON, Origin=s.origin))
    assert r.status == 200 and json.loads(r.text)["count"] == before + 1, r.status
    w = Visitor(s, ip=next_ip())
    beacon(w, aid)
    r = w.post("/comments/%d/like" % cid, body=b"", headers=dict(JSON, Origin=STATIC))
    assert r.status == 200 and json.loads(r.text)["count"] == before + 2, \
        "like from http.origin_allow's origin: %d" % r.status


def test_cookieless_likes_count_once_per_address():
    s = srv()
    aid, cid = fresh_comment()
    ip = next_ip()
    for _ in range(30):
        r = Visitor(s, ip=ip).post("/comments/%d/like" % cid, body=b"", headers=JSON)
        assert r.status == 200, "cookie-less like: %d" % r.status
    assert like_count(cid) == 1, "30 cookie-less likes from one address: %d" % like_count(cid)


def test_fresh_cookie_per_like_is_capped_per_address():
    """An attacker asking the beacon for a new cookie before every like
    gets at most visitors.rate_burst (20) of them from one address; the
    rest of its likes are the address's one."""
    s = srv()
    aid, cid = fresh_comment()
    ip = next_ip()
    cookies = set()
    for _ in range(40):
        v = Visitor(s, ip=ip)
        beacon(v, aid)
        if "kiji_v" in v.cookies:
            cookies.add(v.cookies["kiji_v"])
        r = v.post("/comments/%d/like" % cid, body=b"", headers=JSON)
        assert r.status == 200, "like: %d" % r.status
    assert 20 <= len(cookies) <= 22, "%d visitor cookies for one address" % len(cookies)
    assert like_count(cid) <= len(cookies) + 1, \
        "40 likes with fresh cookies: %d (cookies %d)" % (like_count(cid), len(cookies))
    # another address still gets its id
    v = Visitor(s, ip=next_ip())
    beacon(v, aid)
    assert "kiji_v" in v.cookies, "the budget of one address starved another"


def _at_once(fns, timeout=60):
    errors = []
    barrier = threading.Barrier(len(fns))

    def wrap(fn):
        def run():
            try:
                barrier.wait(timeout=timeout)
                fn()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
        return run
    ts = [threading.Thread(target=wrap(f), daemon=True) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
    assert not any(t.is_alive() for t in ts), "threads still running after %d s" % timeout
    assert not errors, "%d thread errors, first: %s" % (len(errors), errors[0])


def test_20_concurrent_likes_from_a_page_just_opened_count_once():
    """Both moments: the beacon's cookie is back (one fresh identity), or
    not yet (no cookie at all)."""
    s = srv()
    for with_cookie in (True, False):
        aid, cid = fresh_comment()
        ip = next_ip()
        jar = {}
        if with_cookie:
            v = Visitor(s, ip=ip)
            beacon(v, aid)
            assert "kiji_v" in v.cookies
            jar = dict(v.cookies)

        def one():
            w = Visitor(s, ip=ip)
            w.cookies = dict(jar)
            r = w.post("/comments/%d/like" % cid, body=b"", headers=JSON)
            assert r.status == 200, "like: %d" % r.status
            assert w.cookies.get("kiji_v") == jar.get("kiji_v"), "a like handed out an id"
        _at_once([one for _ in range(20)])
        assert like_count(cid) == 1, "20 concurrent likes (%s cookie): %d" % (
            "fresh" if with_cookie else "no", like_count(cid))


# ---- item 7: IPv6 ---------------------------------------------------------------------------

def test_comment_rate_limit_takes_a_64_as_one_address():
    """comments.rate_burst is 5: five posts from five addresses of one /64
    pass, the sixth from a sixth address of it is 429; the next /64 posts."""
    s = srv()
    aid = open_article()
    net = "2001:db8:%x:%x" % tuple(int(x) for x in next_ip().split(".")[2:4])
    for i in range(5):
        v = Visitor(s, ip="%s::%x" % (net, i + 1))
        tc.posted(tc.post(v, aid, "v6 %d %s" % (i, uuid.uuid4().hex[:8])), aid)
    v = Visitor(s, ip="%s:ffff:ffff:ffff:fffe" % net)
    r = tc.post(v, aid, "v6 six " + uuid.uuid4().hex[:8])
    assert r.status == 429 and (r.header("retry-after") or "").isdigit(), \
        "6th post from the /64: %d" % r.status
    v = Visitor(s, ip="::ffff:" + next_ip())  # an IPv4 client, written IPv4-mapped
    tc.posted(tc.post(v, aid, "mapped " + uuid.uuid4().hex[:8]), aid)
    other = "2001:db8:ffff:%x::1" % (int(net.split(":")[3], 16) ^ 1)
    tc.posted(tc.post(Visitor(s, ip=other), aid, "v6 next " + uuid.uuid4().hex[:8]), aid)


def test_like_rate_limit_takes_a_64_as_one_address():
    """likes.rate_burst is 60: the 61st like from one /64 is 429."""
    s = srv()
    aid, cid = fresh_comment()
    net = "2001:db8:aa:%x" % (int(next_ip().split(".")[3]))
    codes = []
    for i in range(61):
        r = Visitor(s, ip="%s::%x" % (net, i + 1)).post(
            "/comments/%d/%s" % (cid, "like" if i % 2 == 0 else "unlike"),
            body=b"", headers=JSON)
        codes.append(r.status)
    assert codes[:60] == [200] * 60 and codes[60] == 429, \
        "likes from one /64: %r" % sorted(set(codes))
    # cookie-less likes from across the /64 were one visitor
    assert like_count(cid) <= 1, "likes from one /64 counted %d" % like_count(cid)
