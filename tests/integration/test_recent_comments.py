"""The site's recent comments (issue 16 item 4): the 最近のコメント block on
the front page and the listings (never on article pages), its refresh
rule (a new comment reaches cached listings after
comments.recent_refresh seconds, not at once, and never drops other
articles' pages), /comments with its pages, the RSS feed of all comments
(/comments/feed), the Atom feed of one article's comments
(/articles/<id>/feed/atom), escaping and what is never shown.

One server of its own ("recent") with the test build's injected clock
(KIJI_TEST_CLOCK_FILE), so the refresh interval passes without waiting:
five articles a page (the oldest articles are on no front page), five
comments in the block, a refresh of 30 s, a cache TTL of an hour (only
the refresh rule drops pages), an NG word that holds a comment for
moderation and no rate limit (every request comes from 127.0.0.1)."""

import datetime as dt
import re
import sqlite3
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import kiji
from kiji import Visitor

REFRESH = 30
COUNT = 5
PER_PAGE = 5
HOLD = "保留語"
ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
_offset = [0]


def srv():
    s = kiji.server("recent", start=False, articles=30, comments=3, seed=11,
                    settings={"listing.per_page": PER_PAGE,
                              "comments.recent_count": COUNT,
                              "comments.recent_refresh": REFRESH,
                              "cache.ttl": 3600,
                              "comments.ngwords": HOLD,
                              "comments.rate_per_minute": 0,
                              "comments.min_fill_seconds": 0})
    if not s.env:
        clock = s.tmp / "clock"
        clock.write_text("0\n")
        s.env = {"KIJI_TEST_CLOCK_FILE": str(clock)}
    if not s.alive():
        s.start()
    return s


def advance(seconds):
    """Moves the server's clock forward (atomically) and waits until it has
    read the file (every 0.1 s)."""
    _offset[0] += seconds
    p = Path(srv().env["KIJI_TEST_CLOCK_FILE"])
    tmp = p.with_suffix(".tmp")
    tmp.write_text("%d\n" % _offset[0])
    tmp.replace(p)
    time.sleep(0.3)


def settle():
    """Lets every comment change so far reach the cached pages, so a test
    starts with no refresh pending: a request (the server reads the change
    log, e.g. a CLI's, and notes the time), the clock past the refresh, a
    request (the pages are marked stale)."""
    srv().get("/robots.txt")
    advance(REFRESH + 1)
    srv().get("/robots.txt")


def server_now():
    return int(time.time()) + _offset[0]


def mark():
    return "m" + uuid.uuid4().hex[:10]


def fresh():
    """A query argument that makes an answer uncacheable: rendered now."""
    return "fresh=%s" % uuid.uuid4().hex


def posts():
    """Visible posts, newest first (at the server's clock)."""
    return [r[0] for r in srv().sql(
        "SELECT id FROM articles WHERE kind = 'post' AND status = 'published' "
        "AND published_at <= ? AND comments_open = 1 ORDER BY published_at DESC, id DESC",
        (server_now(),))]


def old_article():
    """A visible post on no page of the front page's first page."""
    ids = posts()
    assert len(ids) > PER_PAGE + 2, "the demo has %d visible posts" % len(ids)
    return ids[-1]


def post_comment(aid, body, nickname=""):
    """Posts from the article's form (a page's at its /pages/ address);
    returns the new comment's id."""
    v = Visitor(srv())
    r = v.get("/articles/%d" % aid)
    if r.status == 301:
        r = v.page(r.header("location"))
    assert r.status == 200, "/articles/%d: %d" % (aid, r.status)
    tok = r.doc.select_one("form#comment-form input[name=token]")
    assert tok is not None, "/articles/%d: no comment form" % aid
    r = v.post("/articles/%d/comments" % aid, {
        "nickname": nickname, "body": body, "parent": "0", "token": tok.get("value"),
        "url": "", "opened": ""})
    assert r.status == 303, "POST comment: %d\n%s" % (r.status, r.text[:600])
    m = re.search(r"#comment-([0-9]+)$", r.header("location") or "")
    assert m, "Location %r" % r.header("location")
    return int(m.group(1))


def expected_recent(limit, offset=0):
    """(id, article id) of the newest approved comments on visible posts
    (pages stay out), as the site must list them."""
    return [(r[0], r[1]) for r in srv().sql(
        "SELECT c.id, c.article_id FROM comments c JOIN articles a ON a.id = c.article_id "
        "WHERE c.status = 'approved' AND c.type = 'comment' AND a.status = 'published' "
        "AND a.kind = 'post' AND a.published_at <= ? ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?",
        (server_now(), limit, offset))]


def comment_href(aid, cid):
    return "/articles/%d#comment-%d" % (aid, cid)


def block(doc):
    return doc.select_one("section.recent-comments")


def block_items(doc):
    """(nickname, href, title, snippet) of each entry of the block."""
    b = block(doc)
    assert b is not None, "no section.recent-comments"
    out = []
    for li in b.select("ul.recent-comments-list > li"):
        a = li.select_one("a.rc-title")
        out.append((li.select_one("span.rc-nick").text(), a.get("href"), a.text(),
                    li.select_one("p.rc-snippet").text()))
    return out


def x_cache(path):
    return srv().get(path).header("x-cache")


def warm(*paths):
    for p in paths:
        for _ in range(3):
            if x_cache(p) == "hit":
                break
        assert x_cache(p) == "hit", "%s does not become a cache hit" % p


# ---- the block ---------------------------------------------------------------------------

@kiji.needs_hooks
def test_block_shows_newest_approved_not_pending_or_spam():
    s = srv()
    aid = old_article()
    approved, held, spammed = mark(), mark(), mark()
    cid = post_comment(aid, "承認される %s です" % approved, nickname=approved)
    hid = post_comment(aid, "%s を含む %s" % (HOLD, held), nickname=held)
    sid = post_comment(aid, "スパム %s" % spammed, nickname=spammed)
    s.cli("comments", "spam", str(sid))
    st = {r[0]: r[1] for r in s.sql("SELECT id, status FROM comments WHERE id IN (?, ?, ?)",
                                     (cid, hid, sid))}
    assert st == {cid: "approved", hid: "pending", sid: "spam"}, st
    settle()
    r = s.page("/")
    items = block_items(r.doc)
    want = expected_recent(COUNT)
    assert [it[1] for it in items] == [comment_href(a, c) for c, a in want], \
        "block %r, want %r" % ([it[1] for it in items], want)
    assert want[0][0] == cid, "the newest approved comment is %r, not %d" % (want[0], cid)
    nick, href, title, snippet = items[0]
    assert nick == approved and href == comment_href(aid, cid), items[0]
    t = s.sql("SELECT title FROM articles WHERE id = ?", (aid,))[0][0]
    assert title == t or (title.endswith("…") and t.startswith(title[:-1])), (title, t)
    assert snippet == "承認される %s です" % approved, snippet
    assert held not in r.text and spammed not in r.text, "pending or spam comment shown"
    more = block(r.doc).select_one("p.recent-more a")
    assert more is not None and more.get("href") == "/comments"
    # the comment's own link lands on it
    page = s.page("/articles/%d" % aid).doc
    assert page.select_one("#comment-%d" % cid) is not None, "no #comment-%d on its page" % cid


@kiji.needs_hooks
def test_block_on_listings_not_on_article_pages():
    s = srv()
    # a comment on a page: pages stay out of listings, and of this list
    page = s.sql("SELECT id FROM articles WHERE kind = 'page' AND status = 'published' "
                 "AND comments_open = 1 AND published_at <= ? LIMIT 1", (server_now(),))
    pm = mark()
    if page:
        post_comment(page[0][0], "固定ページへ %s" % pm, nickname=pm)
    settle()
    cat = s.sql("SELECT c.slug FROM categories c JOIN articles a ON a.category_id = c.id "
                "WHERE a.status = 'published' LIMIT 1")[0][0]
    tag = s.sql("SELECT t.slug FROM tags t JOIN article_tags x ON x.tag_id = t.id "
                "JOIN articles a ON a.id = x.article_id WHERE a.status = 'published' "
                "AND a.published_at <= ? LIMIT 1", (server_now(),))[0][0]
    pub = s.sql("SELECT published_at FROM articles WHERE id = ?", (posts()[0],))[0][0]
    month = dt.datetime.fromtimestamp(pub, kiji.JST).strftime("%Y/%m")
    want = [comment_href(a, c) for c, a in expected_recent(COUNT)]
    for p in ("/", "/?page=2", "/category/%s" % cat, "/tag/%s" % tag, "/archive/%s" % month):
        d = s.page(p).doc
        assert [it[1] for it in block_items(d)] == want, "%s: block differs" % p
        feeds = [l.get("href") for l in d.select("link[rel=alternate]")]
        assert "/comments/feed" in feeds, "%s: no link to /comments/feed (%s)" % (p, feeds)
        assert pm not in d.text(), "%s shows a comment on a page" % p
    for p in ("/comments", "/comments/feed"):
        assert pm not in s.get(p).text, "%s shows a comment on a page" % p
    for aid in posts()[:3]:
        r = s.page("/articles/%d" % aid)
        assert block(r.doc) is None and "recent-comments" not in r.text, \
            "/articles/%d shows the recent comments" % aid
        links = {(l.get("type"), l.get("href")) for l in r.doc.select("link[rel=alternate]")}
        assert ("application/rss+xml", "/articles/%d/feed" % aid) in links, links
        assert ("application/atom+xml", "/articles/%d/feed/atom" % aid) in links, links
        assert ("application/rss+xml", "/comments/feed") not in links, links


def test_recent_count_zero_hides_the_block():
    s = srv()
    s.config_set("comments.recent_count", 0)
    try:
        r = s.get("/?" + fresh())
        assert r.status == 200 and block(r.doc) is None, "block shown with recent_count 0"
        assert "/comments/feed" not in r.text
    finally:
        s.config_set("comments.recent_count", COUNT)
    r = s.get("/?" + fresh())
    assert block(r.doc) is not None, "block not back with recent_count %d" % COUNT


def test_links_go_through_comment_pages_when_paged():
    """With comments.per_page on, a comment may be on page 2 of its
    article: the block and the feed link /comments/<cid>, which answers
    302 to the page and anchor that hold it."""
    s = srv()
    s.config_set("comments.per_page", 1)
    try:
        r = s.get("/?" + fresh())
        items = block_items(r.doc)
        assert items, "no entries in the block"
        for _, href, _, _ in items:
            assert re.fullmatch(r"/comments/[0-9]+", href), "block links %r" % href
        cid = int(items[0][1].rsplit("/", 1)[1])
        g = s.get(items[0][1])
        assert g.status == 302 and g.header("location").endswith("#comment-%d" % cid), \
            "%s: %d %s" % (items[0][1], g.status, g.header("location"))
        feed = s.get("/comments/feed?" + fresh()).text
        assert "/comments/%d</link>" % cid in feed, "the feed does not link /comments/%d" % cid
    finally:
        s.config_set("comments.per_page", 0)


# ---- the refresh rule ------------------------------------------------------------------

@kiji.needs_hooks
def test_new_comment_reaches_listings_after_the_refresh_only():
    s = srv()
    settle()
    aid = old_article()
    other = posts()[0]  # on the front page; its page shows nothing of aid
    assert other != aid
    paths = ["/", "/comments", "/comments/feed", "/articles/%d" % other,
             "/articles/%d/feed/atom" % other]
    warm(*paths)
    m = mark()
    cid = post_comment(aid, "新しいコメント %s" % m, nickname=m)
    # at once: the cached pages stay (the poster's own cookie aside)
    for p in paths:
        r = s.get(p)
        assert r.header("x-cache") == "hit", "%s: X-Cache %r right after a comment on " \
            "another article" % (p, r.header("x-cache"))
        assert m not in r.text, "%s shows the new comment before the refresh" % p
    # a fresh render shows it: the store has it, only the cache waits
    assert m in s.get("/?" + fresh()).text
    advance(REFRESH - 10)
    assert x_cache("/") == "hit" and m not in s.get("/").text, "dropped before the refresh"
    advance(11)
    for p in ("/", "/comments", "/comments/feed"):
        r = s.get(p)
        assert r.status == 200 and m in r.text, "%s does not show the comment after %d s" % (
            p, REFRESH + 1)
    assert block_items(s.page("/").doc)[0][1] == comment_href(aid, cid)
    # other articles' pages and feeds were never dropped
    for p in ("/articles/%d" % other, "/articles/%d/feed/atom" % other):
        assert x_cache(p) == "hit", "%s was dropped by a comment on %d" % (p, aid)
    # one refresh per interval: the pages are cached again
    warm("/")
    assert x_cache("/") == "hit"


@kiji.needs_hooks
def test_moderated_away_comment_leaves_after_the_refresh():
    s = srv()
    settle()
    aid = old_article()
    m = mark()
    cid = post_comment(aid, "消される %s" % m, nickname=m)
    settle()
    assert m in s.get("/").text
    s.cli("comments", "delete", str(cid))
    settle()
    for p in ("/", "/comments", "/comments/feed"):
        assert m not in s.get(p).text, "%s still shows a deleted comment" % p


# ---- /comments ---------------------------------------------------------------------------

@kiji.needs_hooks
def test_comments_page_paginates():
    s = srv()
    settle()
    total = len(expected_recent(10000))
    pages = (total + PER_PAGE - 1) // PER_PAGE
    assert pages >= 3, "only %d approved comments" % total
    seen = []
    for n in (1, 2, pages):
        path = "/comments" if n == 1 else "/comments?page=%d" % n
        r = s.page(path)
        d = r.doc
        hrefs = [li.select_one("p.rc-snippet a").get("href")
                 for li in d.select("ol.recent-comments-page > li")]
        want = [comment_href(a, c) for c, a in expected_recent(PER_PAGE, (n - 1) * PER_PAGE)]
        assert hrefs == want, "%s: %r, want %r" % (path, hrefs, want)
        seen += hrefs
        prev = d.select_one("nav.pagination a[rel=prev]")
        nxt = d.select_one("nav.pagination a[rel=next]")
        assert (prev is not None) == (n > 1), "%s: rel=prev %r" % (path, prev)
        assert (nxt is not None) == (n < pages), "%s: rel=next %r" % (path, nxt)
        if nxt is not None:
            assert nxt.get("href") == "/comments?page=%d" % (n + 1)
        if prev is not None:
            assert prev.get("href") == ("/comments" if n == 2 else "/comments?page=%d" % (n - 1))
        canon = d.select_one("link[rel=canonical]").get("href")
        assert canon.endswith(path), "%s: canonical %s" % (path, canon)
        assert x_cache(path) == "hit", "%s is not cached" % path
    assert len(set(seen)) == len(seen), "a comment on two pages"
    for q in ("page=%d" % (pages + 1), "page=0", "page=01", "page=2x", "page=-1", "page=999999"):
        r = s.get("/comments?" + q)
        assert r.status == 404, "/comments?%s: %d, want 404" % (q, r.status)
    # the listing of every comment never leaks a commenter's address
    c = expected_recent(1)[0][0]
    s_ip, s_mail = "203.0.113.%d" % (c % 250 + 1), "leak-%s@example.com" % mark()
    con = kiji.connect(s.db)
    try:
        con.execute("UPDATE comments SET email = ?, ip = ? WHERE id = ?", (s_mail, s_ip, c))
        con.commit()
    finally:
        con.close()
    for p in ("/comments", "/comments/feed", "/", "/articles/%d/feed/atom" % expected_recent(1)[0][1]):
        t = s.get("%s?%s" % (p, fresh())).text
        assert s_ip not in t and s_mail not in t, "%s shows an address" % p


# ---- feeds -------------------------------------------------------------------------------

@kiji.needs_hooks
def test_comments_feed_is_rss_of_the_newest():
    s = srv()
    settle()
    base = s.config_get("site.base_url")
    r = s.get("/comments/feed")
    assert r.status == 200 and r.content_type == "application/rss+xml", r.header("content-type")
    root = ET.fromstring(r.body)
    assert root.tag == "rss" and root.get("version") == "2.0", root.tag
    ch = root.find("channel")
    assert ch.findtext("title") and ch.findtext("link") == base + "/comments"
    items = ch.findall("item")
    n = int(s.config_get("feed.items"))
    want = expected_recent(n)
    assert [it.findtext("link") for it in items] == \
        [base + comment_href(a, c) for c, a in want], "feed items differ from the newest"
    for it, (c, a) in zip(items, want):
        row = s.sql("SELECT nickname, body FROM comments WHERE id = ?", (c,))[0]
        assert it.findtext("guid") == it.findtext("link")
        assert it.findtext(DC + "creator") == row[0]
        assert it.findtext("description") == row[1]
        assert it.findtext("pubDate"), "item without pubDate"
    e = r.header("etag")
    assert e and s.get("/comments/feed", {"If-None-Match": e}).status == 304
    assert s.get("/comments/feed?page=2").status == 404


@kiji.needs_hooks
def test_article_atom_feed():
    s = srv()
    settle()
    base = s.config_get("site.base_url")
    aid = old_article()
    held = mark()
    post_comment(aid, "%s %s" % (HOLD, held))
    r = s.get("/articles/%d/feed/atom?%s" % (aid, fresh()))
    assert r.status == 200 and r.content_type == "application/atom+xml", r.header("content-type")
    root = ET.fromstring(r.body)
    assert root.tag == ATOM + "feed", root.tag
    self_ = [l for l in root.findall(ATOM + "link") if l.get("rel") == "self"]
    alt = [l for l in root.findall(ATOM + "link") if l.get("rel") == "alternate"]
    assert self_ and self_[0].get("href") == "%s/articles/%d/feed/atom" % (base, aid)
    assert alt and alt[0].get("href") == "%s/articles/%d" % (base, aid)
    assert root.findtext(ATOM + "id") and root.findtext(ATOM + "updated")
    assert root.find(ATOM + "author/" + ATOM + "name") is not None
    rows = s.sql("SELECT id, nickname, body FROM comments WHERE article_id = ? AND "
                 "status = 'approved' AND type = 'comment' ORDER BY created_at DESC, id DESC",
                 (aid,))
    entries = root.findall(ATOM + "entry")
    assert len(entries) == min(len(rows), 50) and entries, "%d entries, %d approved" % (
        len(entries), len(rows))
    for e, row in zip(entries, rows):
        link = "%s/articles/%d#comment-%d" % (base, aid, row[0])
        assert e.findtext(ATOM + "id") == link
        assert e.find(ATOM + "link").get("href") == link
        assert e.findtext(ATOM + "author/" + ATOM + "name") == row[1]
        assert e.findtext(ATOM + "content") == row[2]
        assert e.find(ATOM + "content").get("type") == "text"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d",
                            e.findtext(ATOM + "updated") or ""), e.findtext(ATOM + "updated")
    assert held not in r.text, "a pending comment in the Atom feed"
    draft = s.sql("SELECT id FROM articles WHERE status <> 'published' LIMIT 1")
    for p in ["/articles/99999999/feed/atom", "/articles/%d/feed/atom?page=2" % aid] + \
            ["/articles/%d/feed/atom" % d[0] for d in draft]:
        assert s.get(p).status == 404, "%s is not 404" % p


# ---- escaping and cutting ----------------------------------------------------------------

@kiji.needs_hooks
def test_hostile_nickname_and_body_escaped_everywhere():
    s = srv()
    settle()
    aid = old_article()
    nick = "<script>alert('%s')</script>&\"" % mark()[:6]
    body = "<img src=x onerror=alert(1)> ]]> & \"q\" %s" % mark()
    cid = post_comment(aid, body, nickname=nick)
    row = s.sql("SELECT nickname, body FROM comments WHERE id = ?", (cid,))[0]
    assert tuple(row) == (nick, body), "stored %r" % (tuple(row),)
    settle()
    for p in ("/", "/comments"):
        r = s.page(p)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text, "%s: raw markup" % p
        assert "&lt;script&gt;alert(" in r.text, "%s: the nickname is not shown escaped" % p
    assert any(it[0] == nick for it in block_items(s.page("/").doc)), "not in the block"
    for p in ("/comments/feed", "/articles/%d/feed/atom" % aid):
        body_ = s.get(p).body
        root = ET.fromstring(body_)  # well-formed despite ]]> and &
        texts = [t for t in root.itertext()]
        assert any(nick in t for t in texts), "%s: nickname not read back" % p
        assert any(body in t for t in texts), "%s: body not read back" % p
        assert b"<script>" not in body_ and b"<img src=x" not in body_


@kiji.needs_hooks
def test_snippet_cut_on_grapheme_clusters():
    s = srv()
    settle()
    aid = old_article()
    family = "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
    m = mark()
    cid = post_comment(aid, family * 60, nickname=m)
    settle()
    items = [it for it in block_items(s.page("/").doc) if it[0] == m]
    assert items, "the comment is not in the block"
    snippet = items[0][3]
    assert snippet == family * 40 + "…", "snippet %d code points, want 40 families and …" % \
        len(snippet)
    assert items[0][1] == comment_href(aid, cid)
