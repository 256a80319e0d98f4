"""Breaking news (issue 14, Tests): what the page cache does for speed
(segmented LRU admission, stale-while-revalidate, the poster's own-write
cookie kiji_w, precise invalidation of text-only article edits) must not
cost correctness. Correctness only: nothing here is timed.

- many comments posted at once while readers fetch the page: afterwards
  the page equals a fresh render byte for byte, shows every comment, and
  its count agrees with the comments shown — and no reader was ever given
  a page whose count disagrees with its comments;
- a poster sees their own comment on the page their POST leads to, form
  and JSON API, while other readers keep a refresh in flight;
- a forged kiji_w cookie is harmless;
- an editor's text-only edit of A refreshes A, the listings and feeds
  showing it and the pages showing its card, and leaves an unrelated
  article's page a cache hit; a title change shows everywhere;
- a like and a moderation action show on the next fetch;
- a flood of one-off URLs does not evict the pages readers keep asking for.

Own servers: "breaking" (trusted proxy 127.0.0.1 so each poster has its
own address, no comment rate limit or fill time, one NG word to hold a
comment for moderation) and "breaking-flood" (620 articles, a 2 MB page
cache, so that a flood of distinct pages must evict)."""

import json
import re
import threading
import time
import uuid

import kiji
import test_comments as tc
from kiji import Visitor, next_ip

HOLD = "保留語"
JSON = {"Accept": "application/json"}
STALE_S = 0.3  # > CACHE_STALE_MS: a stale copy is no longer handed out
HOLD_S = 0.15  # > the coalescing hold's cap (CACHE_STALE_MS)
LI = re.compile(rb'<li class="comment( [a-z ]*)?" id="comment-([0-9]+)"')
COUNT = re.compile(rb'<h2 id="comments-h"[^>]*>[^<]*<span class="count">([0-9]+)</span>')


def srv():
    return kiji.server("breaking", articles=16, comments=3, seed=14,
                       settings={"http.trusted_proxies": "127.0.0.1",
                                 "cache.coalesce": "4",  # the default
                                 "comments.rate_per_minute": "0",
                                 "comments.min_fill_seconds": "0",
                                 "comments.ngwords": HOLD})


def comments_of(body):
    """(ids of the approved comments shown, the count in the heading)."""
    ids = [int(m.group(2)) for m in LI.finditer(body)
           if not (m.group(1) or b"").strip()]
    m = COUNT.search(body)
    assert m, "no comment count heading on the page"
    return ids, int(m.group(1))


def approved(s, aid):
    return s.sql("SELECT count(*) FROM comments WHERE article_id = ? AND type = 'comment'"
                 " AND status = 'approved'", (aid,))[0][0]


def x_cache(s, path, headers=None):
    r = s.get(path, headers)
    assert r.status == 200, "GET %s: %d" % (path, r.status)
    return r.header("x-cache")


def warm(s, *paths):
    """Each path asked for until the cache answers it (hit), once the
    coalescing hold of any write before is over (a stale copy answers
    "hit" too)."""
    time.sleep(HOLD_S)
    for p in paths:
        for _ in range(4):
            if x_cache(s, p) == "hit":
                break
        assert x_cache(s, p) == "hit", "%s does not become a cache hit" % p


def settled(s, path):
    """The page once no stale copy can be handed out: a stale copy is
    served only while a refresh begun less than 100 ms ago is in flight,
    so after a pause the first fetch refreshes it."""
    time.sleep(STALE_S)
    s.get(path)
    r = s.get(path)
    assert r.status == 200, "GET %s: %d" % (path, r.status)
    return r


def later(s, path):
    """The next fetch by another reader once a hot page's coalescing hold
    (cache.coalesce x its refresh cost, at least cache.hold_min_ms, at
    most 100 ms) is over: it
    refreshes, so it shows every write before it."""
    time.sleep(HOLD_S)
    r = s.get(path)
    assert r.status == 200, "GET %s: %d" % (path, r.status)
    return r


def fresh(s, path):
    """A render that bypasses the page cache (any other query argument
    makes the answer uncacheable: see site_cache_key)."""
    r = s.get(path + "?x=1")
    assert r.status == 200 and r.header("x-cache") is None, \
        "GET %s?x=1: %d, X-Cache %r (want an uncached render)" % (
            path, r.status, r.header("x-cache"))
    return r


def hot_article(s):
    ids = tc.open_articles(s)
    assert ids, "breaking demo: no article open for comments"
    return ids[0]


def api_token(s, aid):
    r = s.get("/api/articles/%d/comments" % aid, JSON)
    assert r.status == 200, "GET /api/articles/%d/comments: %d" % (aid, r.status)
    return json.loads(r.text)["token"]


def post_form(v, aid, token, body):
    r = tc.post(v, aid, body, token=token)
    return tc.posted(r, aid), r


def post_api(v, aid, token, body):
    r = v.post_json("/api/articles/%d/comments" % aid,
                    {"nickname": "", "body": body, "token": token, "parent": 0})
    assert r.status == 201, "API post: %d %s" % (r.status, r.text[:300])
    j = json.loads(r.text)
    assert j["status"] == "approved", "API post: %r" % j
    return int(j["id"]), r


class Readers:
    """Threads fetching a path without cookies until stopped (bounded in
    count and time), checking every page they get: 200, and a comment
    count that agrees with the comments shown."""

    def __init__(self, s, path, n=2, limit=3000, seconds=90):
        self.s, self.path = s, path
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.fetched = 0
        self.problems = []
        self.deadline = time.monotonic() + seconds
        self.limit = limit
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(n)]

    def run(self):
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            with self.lock:
                if self.fetched >= self.limit:
                    return
                self.fetched += 1
            try:
                r = self.s.get(self.path)
            except Exception as e:  # noqa: BLE001 (reported below)
                with self.lock:
                    self.problems.append("GET %s: %r" % (self.path, e))
                continue
            if r.status != 200:
                with self.lock:
                    self.problems.append("GET %s: %d" % (self.path, r.status))
                continue
            ids, count = comments_of(r.body)
            if len(ids) != count:
                with self.lock:
                    self.problems.append("a page (X-Cache %s) counts %d comments and shows %d"
                                         % (r.header("x-cache"), count, len(ids)))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        return False

    def check(self):
        assert self.fetched > 0, "the readers fetched nothing"
        assert not self.problems, "%d bad pages, first: %s" % (
            len(self.problems), self.problems[:3])


def run_threads(fns, timeout=90):
    errs = []

    def wrap(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 (re-raised below)
            errs.append(e)
    ts = [threading.Thread(target=wrap, args=(f,), daemon=True) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in ts), "a thread did not finish in %d s" % timeout
    if errs:
        raise errs[0]


# ---- (i) concurrent comments: the page equals a fresh render -------------------------------

def test_concurrent_comments_page_equals_fresh_render():
    s = srv()
    aid = hot_article(s)
    path = "/articles/%d" % aid
    warm(s, path)
    token = api_token(s, aid)
    before = approved(s, aid)
    posted = []
    lock = threading.Lock()
    tag = uuid.uuid4().hex[:8]

    def poster(t):
        def go():
            for j in range(5):
                v = Visitor(s, ip=next_ip())
                body = "速報 %s-%d-%d 現地はどうなっているのか。" % (tag, t, j)
                post = post_api if (t + j) % 2 else post_form
                cid, _ = post(v, aid, token, body)
                with lock:
                    posted.append(cid)
        return go

    with Readers(s, path, n=3) as rd:
        run_threads([poster(t) for t in range(8)])
    rd.check()
    assert len(posted) == 40 and len(set(posted)) == 40, "posted %r" % posted
    assert approved(s, aid) == before + 40, "store: %d approved, want %d" % (
        approved(s, aid), before + 40)

    for attempt in range(2):  # the form token turns over on the hour
        page = settled(s, path)
        ref = fresh(s, path)
        if page.body == ref.body:
            break
    assert page.body == ref.body, (
        "the cached page (X-Cache %s, %d bytes) differs from a fresh render (%d bytes)"
        % (page.header("x-cache"), len(page.body), len(ref.body)))
    ids, count = comments_of(page.body)
    missing = sorted(set(posted) - set(ids))
    assert not missing, "comments not on the page: %r" % missing
    assert count == len(ids) == before + 40, \
        "count %d, comments shown %d, store %d" % (count, len(ids), before + 40)
    assert x_cache(s, path) == "hit", "the settled page is not cached"


def metric(s, name, label, values):
    """{value: count} of one labelled counter in /metrics."""
    r = s.get("/metrics")
    assert r.status == 200, "/metrics: %d" % r.status
    got = dict(re.findall(r'^%s\{%s="(%s)"\} (\d+)$' % (name, label, "|".join(values)),
                          r.text, re.M))
    assert set(got) == set(values), "no %s in /metrics" % name
    return {k: int(v) for k, v in got.items()}


def bg_refreshes(s):
    return metric(s, "kiji_cache_background_refreshes_total", "by", ("thread", "reader"))["thread"]


def test_page_that_keeps_changing_is_refreshed_in_the_background():
    """A page refreshed moments ago, read, and changed again: the reader that
    finds its refresh due gets the previous bytes like the others, and the
    refresh thread (refresh.c) renders it; the next fetches show the new
    comment, and the settled page equals a fresh render. A page quiet for
    longer than the stale window is refreshed by its reader, as before."""
    s = kiji.server("breaking-bg", articles=16, comments=3, seed=17,
                    settings={"http.trusted_proxies": "127.0.0.1",
                              "cache.coalesce": "1",  # held as long as it took
                              "comments.rate_per_minute": "0",
                              "comments.min_fill_seconds": "0"})
    aid = hot_article(s)
    path = "/articles/%d" % aid
    warm(s, path)
    token = api_token(s, aid)
    base = bg_refreshes(s)
    seen_stale = False
    for k in range(10):
        # a write, and a reader's refresh: the copy's refresh cost is
        # known; then readers (a copy read fewer than 16 times is
        # refreshed by its reader: there is no one to hold up)
        post_api(Visitor(s, ip=next_ip()), aid, token, "第一報 %s %d" % (tc.mark(), k))
        r = s.get(path)
        for _ in range(16):
            s.get(path)
        # the next write, and readers once that copy's hold is over
        # (coalesce 1: as long as its refresh took) but inside the stale
        # window (100 ms after it was made)
        cid, _ = post_api(Visitor(s, ip=next_ip()), aid, token, "続報 %s %d" % (tc.mark(), k))
        r = s.get(path)
        assert r.status == 200
        ids, count = comments_of(r.body)
        assert count == len(ids), "count %d, shown %d" % (count, len(ids))
        if cid not in ids:
            seen_stale = True  # the previous bytes, while the thread renders
        deadline = time.monotonic() + 5
        while cid not in ids and time.monotonic() < deadline:
            time.sleep(0.01)
            ids, count = comments_of(s.get(path).body)
            assert count == len(ids), "count %d, shown %d" % (count, len(ids))
        assert cid in ids, "comment %d never shows on the page" % cid
        if seen_stale and bg_refreshes(s) > base:
            break
    assert seen_stale and bg_refreshes(s) > base, \
        "in 10 rounds no refresh went to the refresh thread (%d)" % (bg_refreshes(s) - base)
    page = settled(s, path)
    ref = fresh(s, path)
    assert page.body == ref.body, "the settled page differs from a fresh render"
    # quiet for longer than the stale window: its next reader renders it
    cid, _ = post_api(Visitor(s, ip=next_ip()), aid, token, "後報 %s" % tc.mark())
    time.sleep(STALE_S)
    r = s.get(path)
    assert cid in comments_of(r.body)[0], \
        "X-Cache %s: the first reader after a pause got a stale page" % r.header("x-cache")


# ---- (ii) the poster sees their own comment --------------------------------------------------

def test_poster_sees_own_comment_while_readers_hammer():
    s = srv()
    aid = hot_article(s)
    path = "/articles/%d" % aid
    warm(s, path)
    token = api_token(s, aid)
    with Readers(s, path, n=3) as rd:
        for k in range(8):
            v = Visitor(s, ip=next_ip())
            cid, r = post_form(v, aid, token, "自分の投稿 %s %d" % (tc.mark(), k))
            assert re.fullmatch(r"[0-9]+", v.cookies.get("kiji_w", "")), \
                "no kiji_w cookie after the post: %r" % v.cookies
            loc = r.header("location").split("#")[0]
            assert loc == path, "303 to %r" % loc
            p = v.get(loc)
            assert p.status == 200, "GET %s after the post: %d" % (loc, p.status)
            ids, count = comments_of(p.body)
            assert cid in ids, "form post %d: the page the 303 leads to (X-Cache %s) " \
                "does not show comment %d" % (k, p.header("x-cache"), cid)
            assert count == len(ids), "count %d, shown %d" % (count, len(ids))

            v = Visitor(s, ip=next_ip())
            cid, r = post_api(v, aid, token, "API の自分の投稿 %s %d" % (tc.mark(), k))
            assert "kiji_w" in v.cookies, "no kiji_w after the API's 201"
            p = v.get(path)
            assert p.status == 200
            ids, count = comments_of(p.body)
            assert cid in ids, "API post %d: the poster's next GET (X-Cache %s) does " \
                "not show comment %d" % (k, p.header("x-cache"), cid)
            assert count == len(ids)
    rd.check()


# ---- (iii) forged kiji_w ------------------------------------------------------------------------

def test_forged_own_write_cookie_is_harmless():
    s = srv()
    aid = hot_article(s)
    path = "/articles/%d" % aid
    warm(s, path)
    plain = s.get(path)
    forged = ["99999999999999999999999999", "18446744073709551615", "18446744073709551616",
              "9999999999999999999", "0", "1", "-1", "abc", "", "1e9", "0x10", " 7",
              "%00", "12;34", "\"5\"", "9" * 400]
    for val in forged:
        r = s.get(path, {"Cookie": "kiji_w=%s" % val})
        assert r.status == 200, "kiji_w=%r: %d" % (val[:40], r.status)
        assert r.header("x-cache") in ("hit", "miss"), \
            "kiji_w=%r: X-Cache %r (the cookie took the page out of the cache)" % (
                val[:40], r.header("x-cache"))
        assert r.body == plain.body, "kiji_w=%r: another page than readers get" % val[:40]
    s.assert_alive()
    assert x_cache(s, path) == "hit", "the page is no longer cached after forged cookies"


# ---- (iv) an editor's edits ---------------------------------------------------------------------

RANKING = re.compile(rb'<aside class="side-col" id="ranking".*?</aside>', re.S)


def links_to(body, aid):
    """Whether the page links to article aid outside the ranking (every
    page's sidebar: titles, which only a title change changes)."""
    return re.search(rb'href="/articles/%d"' % aid, RANKING.sub(b"", body)) is not None


def shows_card(body, aid):
    return re.search(rb'class="related-title" href="/articles/%d"' % aid, body) is not None


def edit(s, aid, front, body=None):
    """`kiji post edit` with the given front matter lines (and body)."""
    f = s.tmp / ("edit-%s.md" % uuid.uuid4().hex[:8])
    text = "---\n%s---\n" % "".join("%s\n" % ln for ln in front)
    if body is not None:
        text += body
    f.write_text(text, "utf-8")
    s.cli("post", "edit", str(aid), str(f))


def article_body(s, aid):
    """The article's Markdown body as `kiji post get` prints it."""
    out = s.cli("post", "get", str(aid)).stdout
    parts = out.split("---\n", 2)
    assert len(parts) == 3, "kiji post get %d: no front matter" % aid
    return parts[2]


def test_text_edit_refreshes_what_shows_the_article_only():
    s = srv()
    posts = s.visible_posts()
    a = posts[0]  # newest: first on the front page, with its excerpt
    pa = "/articles/%d" % a
    warm(s, pa, "/", "/feed")
    # B: an article whose page shows nothing of A but its title in the
    # ranking (not related, not next/previous).
    others = []
    for b in posts[1:]:
        body = s.get("/articles/%d" % b).body
        if not links_to(body, a):
            others.append(b)
    assert others, "every article's page shows %d" % a
    b = others[0]
    pb = "/articles/%d" % b
    # C: an article showing A's card (related), if the demo has one.
    c = next((x for x in posts[1:] if shows_card(s.get("/articles/%d" % x).body, a)), None)
    warm(s, pb)
    if c is not None:
        warm(s, "/articles/%d" % c)
    b_before = s.get(pb).body

    m1, m2 = "号外%s" % uuid.uuid4().hex[:8], "追記%s" % uuid.uuid4().hex[:8]
    edit(s, a, [], "%s。%s\n\n%s（15:00）: 続報。\n" % (m1, article_body(s, a).lstrip(), m2))
    kinds = s.sql("SELECT kind, scope FROM change_log ORDER BY seq DESC LIMIT 1")
    assert tuple(kinds[0]) == ("article", "text"), "the edit logged %r, not a text-only " \
        "change" % (tuple(kinds[0]),)

    r = s.get(pb)
    assert r.header("x-cache") == "hit", \
        "B (%s) shows nothing of A, yet A's text edit took it out of the cache (X-Cache %s)" % (
            pb, r.header("x-cache"))
    assert r.body == b_before, "B's page changed"
    t = s.get(pa).text
    assert m1 in t and m2 in t, "A's page does not show the edit"
    assert m1 in s.get("/").text, "the front page does not show A's new excerpt"
    assert m1 in s.get("/feed").text, "the feed does not show A's new text"
    if c is not None:
        assert m1 in s.get("/articles/%d" % c).text, \
            "article %d shows A's card, but not its new excerpt" % c

    # A title change shows on every page naming A, e.g. its neighbour's
    # next/previous link.
    nb = next((x for x in posts[1:4] if links_to(s.get("/articles/%d" % x).body, a)), None)
    assert nb is not None, "no neighbour of %d links to it" % a
    warm(s, "/articles/%d" % nb, "/")
    title = "速報題%s" % uuid.uuid4().hex[:8]
    edit(s, a, ["title: %s" % title])
    assert title in s.get("/").text, "the front page does not show A's new title"
    assert title in s.get(pa).text, "A's page does not show its new title"
    assert title in s.get("/articles/%d" % nb).text, \
        "A's neighbour %d does not show A's new title" % nb


# ---- (v) a like and a moderation action show on the next fetch ---------------------------------

def like_count_on(body, cid):
    m = re.search(rb'id="comment-%d".*?<span class="like-count">([0-9]+)</span>' % cid,
                  body, re.S)
    assert m, "comment %d has no like count on the page" % cid
    return int(m.group(1))


def test_like_and_moderation_show_on_next_fetch():
    """Other readers see a like, an approval or a spam mark on their first
    fetch once the coalescing hold (at most 100 ms) is over."""
    s = srv()
    aid = hot_article(s)
    path = "/articles/%d" % aid
    token = api_token(s, aid)
    cid, _ = post_api(Visitor(s, ip=next_ip()), aid, token, "いいねの的 %s" % tc.mark())
    warm(s, path)
    n0 = like_count_on(s.get(path).body, cid)

    liker = Visitor(s, ip=next_ip())
    r = liker.post("/comments/%d/like" % cid, body=b"", headers=JSON)
    assert r.status == 200 and json.loads(r.text)["count"] == n0 + 1, \
        "like: %d %s" % (r.status, r.text[:200])
    assert like_count_on(later(s, path).body, cid) == n0 + 1, \
        "a reader's next fetch does not show the like"
    warm(s, path)
    r = liker.post("/comments/%d/unlike" % cid, body=b"", headers=JSON)
    assert r.status == 200
    assert like_count_on(later(s, path).body, cid) == n0, \
        "a reader's next fetch does not show the unlike"

    # A comment held for moderation (NG word), approved, then marked spam
    # with the CLI (another process: the server learns it from the log).
    held, _ = post_form(Visitor(s, ip=next_ip()), aid, token, "%s を含む %s" % (HOLD, tc.mark()))
    assert s.sql("SELECT status FROM comments WHERE id = ?", (held,))[0][0] in (0, "pending"), \
        "the NG word did not hold comment %d" % held
    warm(s, path)
    ids, count = comments_of(s.get(path).body)
    assert held not in ids, "a pending comment is on the public page"
    s.cli("comments", "approve", held)
    ids, count = comments_of(later(s, path).body)
    assert held in ids, "the approved comment is not on the next fetch"
    assert count == len(ids) == approved(s, aid), "count %d, shown %d, store %d" % (
        count, len(ids), approved(s, aid))
    warm(s, path)
    s.cli("comments", "spam", held)
    ids, count = comments_of(later(s, path).body)
    assert held not in ids, "the comment marked spam is still on the next fetch"
    assert count == len(ids) == approved(s, aid), "count %d, shown %d, store %d" % (
        count, len(ids), approved(s, aid))


# ---- (v b) comment boxes kept between renders follow every change -----------------------------

def bsrv():
    return kiji.server("breaking-boxes", articles=16, comments=3, seed=16,
                       settings={"cache.max_bytes": "0",
                                 "http.trusted_proxies": "127.0.0.1",
                                 "comments.rate_per_minute": "0",
                                 "comments.min_fill_seconds": "0"})


def box_counts(s):
    got = metric(s, "kiji_comment_boxes_total", "result", ("hit", "miss"))
    return got["hit"], got["miss"]


def comment_list(body):
    m = re.search(rb'<ol class="comment-list">.*?</section>', body, re.S)
    assert m, "no comment list on the page"
    return m.group(0)


def box_of(body, cid):
    m = re.search(rb'<li class="comment[^"]*" id="comment-%d".*?</article>' % cid, body, re.S)
    assert m, "comment %d is not on the page" % cid
    return m.group(0).decode("utf-8")


def test_kept_comment_boxes_follow_edits_likes_and_moderation():
    """With the page cache off every fetch renders, and each comment's box
    comes from those kept (frag.c) once made: an edit, a like, a spam mark
    (the box becomes the placeholder its reply hangs under) and an approval
    each show on the next render, and the list equals the one a new
    process renders from nothing."""
    from admin_client import Editor, user
    s = bsrv()
    aid = hot_article(s)
    path = "/articles/%d" % aid
    token = api_token(s, aid)
    m = tc.mark()
    top, _ = post_form(Visitor(s, ip=next_ip()), aid, token, "箱の親 %s" % m)
    v = Visitor(s, ip=next_ip())
    r = tc.post(v, aid, "箱の返信 %s" % m, token=token, parent=top)
    reply = tc.posted(r, aid)
    s.get(path)  # an article's first render keeps no boxes (frag.c)
    h0, m0 = box_counts(s)
    body = s.get(path).body
    shown = len(comments_of(body)[0])
    h1, m1 = box_counts(s)
    assert h1 == h0 and m1 - m0 >= shown, \
        "a second render: %d boxes kept, %d made (want %d made)" % (h1 - h0, m1 - m0, shown)
    h0, m0 = h1, m1
    assert s.get(path).body == body, "a second render differs from the first"
    h1, m1 = box_counts(s)
    assert h1 - h0 >= shown and m1 == m0, \
        "a render again: %d boxes kept, %d made (want %d kept)" % (h1 - h0, m1 - m0, shown)

    # an edit in the editor area
    name, pw = user(s, "editor")
    ed = Editor(s)
    ed.login(name, pw)
    fixed = "直した本文 %s" % tc.mark()
    r = ed.submit("/admin/comments/%d/edit" % top, {"body": fixed})
    assert r.status == 303, "edit: %d" % r.status
    b = box_of(s.get(path).body, top)
    assert fixed in b and "箱の親" not in b, "the edited comment shows %r" % b
    # a like
    n0 = like_count_on(s.get(path).body, reply)
    r = Visitor(s, ip=next_ip()).post("/comments/%d/like" % reply, body=b"", headers=JSON)
    assert r.status == 200, "like: %d" % r.status
    assert like_count_on(s.get(path).body, reply) == n0 + 1, "the like is not shown"
    # marked spam: a placeholder its reply still hangs under
    s.cli("comments", "spam", str(top))
    page = s.get(path).body
    b = box_of(page, top)
    assert "comment-deleted" in b and fixed not in b, "the spam comment shows %r" % b
    assert "箱の返信" in box_of(page, reply), "the reply went with its parent"
    s.cli("comments", "approve", str(top))
    b = box_of(s.get(path).body, top)
    assert fixed in b and "comment-deleted" not in b, "the approved comment shows %r" % b

    # the same list from a process that has kept nothing
    for attempt in range(2):  # the form token turns over on the hour
        kept = comment_list(s.get(path).body)
        s.stop()
        s.start()
        anew = comment_list(s.get(path).body)
        if kept == anew:
            break
    assert kept == anew, "the list from kept boxes differs from a new process's"
    assert box_counts(s)[0] == 0


# ---- (vi) a flood of one-off URLs does not evict the hot pages --------------------------------

FLOOD_CACHE = 2 * 1024 * 1024


def fsrv():
    return kiji.server("breaking-flood", articles=620, comments=1, seed=15,
                       settings={"cache.max_bytes": str(FLOOD_CACHE)})


def cache_counters(s):
    h = s.get("/robots.txt").header("x-test-cache")
    if h is None:
        return None
    return {k: int(v) for k, v in (kv.split("=") for kv in h.split())}


def test_flood_of_one_off_urls_keeps_hot_pages():
    s = fsrv()
    posts = s.visible_posts()
    hot = ["/", "/articles/%d" % posts[0]]
    flood = ["/articles/%d" % a for a in posts[1:501]]
    assert len(flood) == 500, "the flood demo has %d other visible posts" % len(flood)
    # The flood must be more than the cache holds, or it proves nothing.
    size = sum(len(fresh(s, p).body) for p in flood[:10]) / 10
    assert size * len(flood) > 4 * FLOOD_CACHE, \
        "500 pages of ~%d bytes do not overflow a %d-byte cache" % (size, FLOOD_CACHE)
    warm(s, *hot)
    before = cache_counters(s)
    if kiji.kiji_bin().parent.name == "asan":
        assert before is not None, "the test build has no X-Test-Cache on /robots.txt"

    lock = threading.Lock()
    todo = list(flood)
    statuses = []

    def crawler():
        while True:
            with lock:
                if not todo:
                    return
                p = todo.pop()
            r = s.get(p)
            with lock:
                statuses.append((p, r.status, r.header("x-cache")))
    run_threads([crawler for _ in range(4)], timeout=110)
    bad = [x for x in statuses if x[1] != 200 or x[2] != "miss"]
    assert len(statuses) == 500 and not bad, "flood answers: %r" % bad[:5]

    after = cache_counters(s)
    if before is not None:
        assert after["evictions"] - before["evictions"] >= 100, \
            "the flood evicted only %d entries: no pressure on the cache (%r -> %r)" % (
                after["evictions"] - before["evictions"], before, after)
        assert after["puts"] - before["puts"] >= 500, "%r -> %r" % (before, after)
    for p in hot:
        assert x_cache(s, p) == "hit", \
            "%s was evicted by 500 one-off URLs (counters %r -> %r)" % (p, before, after)
    # What the flood asked for once is not worth keeping: the first of it
    # (popped from the end of the list) is gone.
    gone = sum(1 for p in flood[-50:] if x_cache(s, p) == "miss")
    assert gone > 0, "every one-off page is still cached in a %d-byte cache" % FLOOD_CACHE
