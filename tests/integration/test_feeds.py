"""Feeds (RSS 2.0 and Atom, site and category), the sitemap and robots.txt,
checked against the demo database: every document well-formed (xmllint
from Debian's libxml2-utils) and read by Debian's python3-feedparser;
conditional GET; the sitemap index; and a scheduled (future) article that
shows up in no feed, sitemap, archive, related block or prev/next link
until its time."""

import datetime as dt
import re
import sqlite3
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import kiji
from kiji import get, head, model, request

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FEED_ITEMS = 20  # feed.items default
_cache = {}


# ---- helpers -----------------------------------------------------------------------

def feedparser():
    try:
        import feedparser as fp
    except ImportError:
        raise AssertionError("python3-feedparser is not installed (scripts/deps.sh test)")
    return fp


def xmllint(body, what):
    """Asserts body is well-formed XML according to xmllint --noout."""
    try:
        r = subprocess.run(["xmllint", "--noout", "-"], input=body,
                           capture_output=True, timeout=60)
    except FileNotFoundError:
        raise AssertionError("xmllint is not installed (libxml2-utils, scripts/deps.sh test)")
    assert r.returncode == 0, "%s is not well-formed XML (xmllint):\n%s" % (
        what, r.stderr.decode("utf-8", "replace")[:2000])


def base_url():
    return (model().setting("site.base_url") or "http://127.0.0.1:8080").rstrip("/")


def guids():
    if "guids" not in _cache:
        con = kiji.connect(kiji.state().db, ro=True)
        try:
            _cache["guids"] = dict(con.execute("SELECT id, guid FROM articles"))
            _cache["updated"] = dict(con.execute("SELECT id, updated_at FROM articles"))
        finally:
            con.close()
    return _cache["guids"]


def updated_at(aid):
    guids()
    return _cache["updated"][aid]


def fetch_feed(path, want_type, getter=get):
    r = getter(path)
    assert r.status == 200, "GET %s: %d\n%s" % (path, r.status, r.text[:300])
    assert r.content_type == want_type, "GET %s: Content-Type %r, want %s" % (
        path, r.header("content-type"), want_type)
    assert "charset=utf-8" in (r.header("content-type") or "").lower(), \
        "GET %s: no charset=utf-8" % path
    xmllint(r.body, path)
    d = feedparser().parse(r.body)
    assert not d.bozo, "GET %s: feedparser bozo: %r" % (path, d.get("bozo_exception"))
    return r, d


def article_id_of(link, base):
    m = re.fullmatch(re.escape(base) + r"/articles/([1-9][0-9]*)", link or "")
    assert m, "entry link %r is not %s/articles/<id>" % (link, base)
    return int(m.group(1))


def epoch_of(struct):
    return int(dt.datetime(*struct[:6], tzinfo=dt.timezone.utc).timestamp())


def check_entries(path, d, posts, atom, full=True, base=None):
    """Entries are the newest posts, in order, with the right fields."""
    base = base or base_url()
    want = posts[:FEED_ITEMS]
    got = [article_id_of(e.get("link"), base) for e in d.entries]
    assert got == [a.id for a in want], "%s entries\n got  %s\n want %s" % (
        path, got, [a.id for a in want])
    g = guids()
    m = model()
    for e, a in zip(d.entries, want):
        assert e.get("title") == a.title, "%s: entry %d title %r, want %r" % (
            path, a.id, e.get("title"), a.title)
        gid = g[a.id]
        if atom and ":" not in gid:
            assert e.get("id") == "%s/articles/%d" % (base, a.id), \
                "%s: entry %d id %r (guid %r is no IRI: the permalink)" % (path, a.id, e.get("id"), gid)
        else:
            assert e.get("id") == gid, "%s: entry %d id %r, want the article guid %r" % (
                path, a.id, e.get("id"), gid)
        assert e.get("published_parsed"), "%s: entry %d has no date" % (path, a.id)
        assert epoch_of(e.published_parsed) == a.published_at, \
            "%s: entry %d published %s, want %s" % (path, a.id, e.get("published"), a.published_at)
        if atom:
            want_up = max(updated_at(a.id), a.published_at)
            assert epoch_of(e.updated_parsed) == want_up, \
                "%s: entry %d updated %s, want %s (updated_at)" % (path, a.id, e.get("updated"), want_up)
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)", e.get("updated", "")), \
                "%s: Atom updated %r is not RFC 3339" % (path, e.get("updated"))
        else:
            assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d (GMT|[+-]\d{4})",
                                e.get("published", "")), \
                "%s: pubDate %r is not RFC 822" % (path, e.get("published"))
        author = m.users.get(a.author_id)
        if author and author.display_name:
            assert e.get("author") == author.display_name, "%s: entry %d author %r, want %r" % (
                path, a.id, e.get("author"), author.display_name)
        cat = m.categories.get(a.category_id)
        if cat:
            terms = [t.get("label") or t.get("term") for t in e.get("tags", [])]
            assert cat.name in terms, "%s: entry %d categories %s lack %r" % (path, a.id, terms, cat.name)
        assert e.get("summary"), "%s: entry %d has no summary/description" % (path, a.id)
        content = e.get("content") or []
        if full:
            assert content, "%s: entry %d has no full content" % (path, a.id)
            html = content[0].value
            assert "<p>" in html, "%s: entry %d content is not the article HTML" % (path, a.id)
            assert not re.search(r'(?:src|href)="/(?!/)', html), \
                "%s: entry %d content has root-relative URLs:\n%s" % (
                    path, a.id, re.findall(r'(?:src|href)="/[^"]*"', html)[:3])
        else:
            assert not content, "%s: entry %d has content with feed.full_content=0" % (path, a.id)


def category_posts():
    m = model()
    by = {}
    for a in m.visible_posts():
        by.setdefault(a.category_id, []).append(a)
    return [(m.categories[c], posts) for c, posts in sorted(
        by.items(), key=lambda kv: -len(kv[1])) if c in m.categories]


# ---- site and category feeds --------------------------------------------------------

def test_site_rss_feed():
    r, d = fetch_feed("/feed", "application/rss+xml")
    assert d.version == "rss20", "/feed version %r" % d.version
    assert d.feed.get("title") == model().setting("site.title", "kiji")
    assert d.feed.get("link") in (base_url() + "/", base_url()), "channel link %r" % d.feed.get("link")
    check_entries("/feed", d, model().visible_posts(), atom=False)


def test_site_atom_feed():
    r, d = fetch_feed("/feed/atom", "application/atom+xml")
    assert d.version == "atom10", "/feed/atom version %r" % d.version
    links = {l.get("rel"): l.get("href") for l in d.feed.get("links", [])}
    assert links.get("self") == base_url() + "/feed/atom", "Atom self link %r" % links.get("self")
    assert d.feed.get("id"), "Atom feed without id"
    newest = max(max(updated_at(a.id), a.published_at) for a in model().visible_posts()[:FEED_ITEMS])
    assert epoch_of(d.feed.updated_parsed) == newest, "feed updated %s, want newest entry %s" % (
        d.feed.get("updated"), newest)
    check_entries("/feed/atom", d, model().visible_posts(), atom=True)


def test_category_feeds():
    cats = category_posts()
    assert len(cats) >= 2, "fewer than two categories with posts"
    for cat, posts in (cats[0], cats[-1]):
        p = "/category/%s/feed" % cat.slug
        _, d = fetch_feed(p, "application/rss+xml")
        assert cat.name in d.feed.get("title", ""), "%s title %r" % (p, d.feed.get("title"))
        check_entries(p, d, posts, atom=False)
        _, d = fetch_feed(p + "/atom", "application/atom+xml")
        check_entries(p + "/atom", d, posts, atom=True)


def test_feeds_linked_from_pages():
    d = kiji.page("/").doc
    types = {}  # the first link of each type: the site's own feeds come first
    for l in d.select("link[rel=alternate]"):
        types.setdefault(l.get("type"), l.get("href"))
    assert types.get("application/rss+xml") == "/feed", "front page RSS link %r" % types
    assert types.get("application/atom+xml") == "/feed/atom", "front page Atom link %r" % types
    cat, _ = category_posts()[0]
    d = kiji.page("/category/%s" % cat.slug).doc
    hrefs = [l.get("href") for l in d.select("link[rel=alternate]")]
    assert "/category/%s/feed" % cat.slug in hrefs, "category page feed links %s" % hrefs


def test_unknown_category_feed_404():
    for p in ("/category/no-such-category/feed", "/category/no-such-category/feed/atom",
              "/feed/rss", "/feed/atom/x"):
        r = get(p)
        assert r.status == 404, "GET %s: %d, want 404" % (p, r.status)
    kiji.assert_alive()


def test_feed_conditional_get():
    for p in ("/feed", "/feed/atom", "/sitemap.xml"):
        r1 = get(p)
        etag = r1.header("etag")
        assert etag and re.fullmatch(r'"[^"]+"', etag), "%s: ETag %r is not a strong tag" % (p, etag)
        r2 = get(p)
        assert r2.header("etag") == etag and r2.body == r1.body, "%s: ETag or body not stable" % p
        assert head(p).header("etag") == etag, "%s: HEAD ETag differs from GET" % p
        r = get(p, headers={"If-None-Match": etag})
        assert r.status == 304 and r.body == b"", "%s If-None-Match: %d, %d bytes, want empty 304" % (
            p, r.status, len(r.body))
        assert r.header("etag") == etag, "%s: 304 without its ETag" % p
        r = get(p, headers={"If-None-Match": '"nope", W/%s' % etag})
        assert r.status == 304, "%s If-None-Match list with W/: %d, want 304" % (p, r.status)
        r = get(p, headers={"If-None-Match": '"0000000000000000"'})
        assert r.status == 200 and r.body == r1.body, "%s stale ETag: %d, want 200" % (p, r.status)


# ---- sitemap and robots ---------------------------------------------------------------

def sitemap_urls(body, what):
    xmllint(body, what)
    root = ET.fromstring(body)
    assert root.tag == SM + "urlset", "%s root <%s>, want urlset" % (what, root.tag)
    out = []
    for u in root.findall(SM + "url"):
        loc = u.findtext(SM + "loc")
        lm = u.findtext(SM + "lastmod")
        assert loc, "%s: <url> without <loc>" % what
        assert lm and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)", lm), \
            "%s: %s lastmod %r is not a W3C datetime" % (what, loc, lm)
        out.append((loc, lm))
    return out


def want_sitemap(m, base):
    vis = m.visible_posts()
    cats = {a.category_id for a in vis if a.category_id in m.categories}
    from urllib.parse import quote
    want = {base + "/"}
    want |= {base + "/category/" + quote(m.categories[c].slug, safe="") for c in cats}
    want |= {"%s/articles/%d" % (base, a.id) for a in vis}
    return want, 1 + len(cats) + len(vis)


def test_sitemap_lists_every_visible_url():
    m = model()
    r = get("/sitemap.xml")
    assert r.status == 200, "/sitemap.xml: %d" % r.status
    assert r.content_type in ("application/xml", "text/xml"), "/sitemap.xml type %r" % r.header("content-type")
    urls = sitemap_urls(r.body, "/sitemap.xml")
    want, count = want_sitemap(m, base_url())
    locs = [u[0] for u in urls]
    assert len(locs) == count, "/sitemap.xml has %d URLs, want %d (front + categories + posts)" % (
        len(locs), count)
    assert len(set(locs)) == len(locs), "duplicate URLs in the sitemap"
    assert set(locs) == want, "sitemap URLs differ:\n missing %s\n extra %s" % (
        sorted(want - set(locs))[:5], sorted(set(locs) - want)[:5])
    # lastmod of an article is its last change
    lm = dict(urls)
    for a in m.visible_posts()[:10]:
        got = int(dt.datetime.fromisoformat(lm["%s/articles/%d" % (base_url(), a.id)]).timestamp())
        assert got == max(updated_at(a.id), a.published_at), "lastmod of %d: %s" % (a.id, got)


def test_sitemap_has_no_hidden_articles():
    m = model()
    body = get("/sitemap.xml").text
    hidden = [a for a in m.articles.values() if not (a.kind == "post" and m.visible(a))]
    assert hidden, "the demo site has no hidden (draft/scheduled) article"
    for a in hidden:
        assert "/articles/%d<" % a.id not in body, "hidden article %d (%s) in the sitemap" % (a.id, a.status)


def test_robots_txt():
    r = get("/robots.txt")
    assert r.status == 200, "/robots.txt: %d" % r.status
    assert r.content_type == "text/plain", "/robots.txt type %r" % r.header("content-type")
    lines = [ln.strip() for ln in r.text.splitlines()]
    assert "User-agent: *" in lines, "robots.txt has no User-agent: *"
    assert "Disallow: /admin/" in lines, "robots.txt does not keep crawlers out of /admin/"
    assert "Sitemap: %s/sitemap.xml" % base_url() in lines, \
        "robots.txt does not point at %s/sitemap.xml:\n%s" % (base_url(), r.text)
    assert "Disallow: /" not in lines, "robots.txt disallows the whole site"


# ---- a site of its own: sitemap index, excerpt feeds, scheduled and odd articles ----------

XSS_TITLE = "</script><script>alert(1)</script> \"引用\" & 'single' <b>太字</b> \u2028終"


def _insert_article(con, title, published_at, category_id, tags, sources=(), status="published"):
    now = int(time.time())
    cur = con.execute(
        "INSERT INTO articles(kind, status, published_at, updated_at, author_id, category_id,"
        " guid, title, body, body_format, body_html, body_text, eyecatch, eyecatch_credit)"
        " VALUES ('post', ?, ?, ?, (SELECT MIN(id) FROM users), ?, ?, ?, ?, 'markdown', ?, ?,"
        " '/media/demo-eye-1.svg', 'テスト')",
        (status, published_at, min(now, published_at), category_id, "urn:uuid:%s" % uuid.uuid4(),
         title, "本文 <script>x</script>", "<p>本文 &lt;script&gt;x&lt;/script&gt;</p>\n",
         "本文 <script>x</script>"))
    aid = cur.lastrowid
    for t in tags:
        con.execute("INSERT INTO article_tags(article_id, tag_id) VALUES (?, ?)", (aid, t))
    for i, (st, su) in enumerate(sources):
        con.execute("INSERT INTO sources(article_id, pos, title, url) VALUES (?, ?, ?, ?)",
                    (aid, i, st, su))
    return aid


def side():
    """A second site: an XSS-titled article, and a post scheduled an hour
    ahead (published, future date: only the clock hides it) sharing category
    and tags with the newest post."""
    if "side" in _cache:
        return _cache["side"]
    srv = kiji.server("crawl", articles=40, comments=2)
    problems = srv.stop()
    assert not problems, problems
    con = kiji.connect(srv.db)
    try:
        newest = con.execute(
            "SELECT id, category_id, published_at FROM articles WHERE kind = 'post' AND"
            " status = 'published' AND published_at <= ? ORDER BY published_at DESC, id DESC"
            " LIMIT 1", (int(time.time()),)).fetchone()
        tags = [r[0] for r in con.execute("SELECT tag_id FROM article_tags WHERE article_id = ?",
                                          (newest[0],))]
        now = int(time.time())
        info = {
            "newest": newest[0],
            "category": newest[1],
            "tags": tags,
            "xss": _insert_article(con, XSS_TITLE, newest[2] - 30, newest[1], tags,
                                   sources=[("出典 \"</script>\"", "https://example.com/a?b=1&c=2")]),
            "future": _insert_article(con, "未来の記事 FUTURE-ONE", now + 3600, newest[1], tags),
        }
        con.commit()
    finally:
        con.close()
    srv.config_set("sitemap.urls_per_file", 10)
    srv.config_set("feed.full_content", 0)
    srv.start()
    info["srv"] = srv
    info["slug"] = srv.sql("SELECT slug FROM categories WHERE id = ?", (info["category"],))[0][0]
    info["tag_slugs"] = [r[0] for r in srv.sql(
        "SELECT slug FROM tags WHERE id IN (%s)" % ",".join("?" * len(tags)), tags)] if tags else []
    _cache["side"] = info
    return info


def test_sitemap_index_when_over_the_limit():
    s = side()
    srv = s["srv"]
    base = srv.sql("SELECT value FROM settings WHERE key = 'site.base_url'")[0][0].rstrip("/")
    r = srv.get("/sitemap.xml")
    assert r.status == 200
    xmllint(r.body, "/sitemap.xml (index)")
    root = ET.fromstring(r.body)
    assert root.tag == SM + "sitemapindex", "root <%s>, want sitemapindex past 10 URLs" % root.tag
    files = [e.findtext(SM + "loc") for e in root.findall(SM + "sitemap")]
    for e in root.findall(SM + "sitemap"):
        assert e.findtext(SM + "lastmod"), "index entry %s without lastmod" % e.findtext(SM + "loc")
    ncat = srv.sql("SELECT COUNT(DISTINCT category_id) FROM articles WHERE kind = 'post' AND"
                   " status = 'published' AND published_at <= ?", (kiji.now_epoch(),))[0][0]
    total = 1 + ncat + len(srv.visible_posts())
    assert len(files) == (total + 9) // 10, "%d sitemap files for %d URLs at 10 per file" % (len(files), total)
    seen = []
    for i, f in enumerate(files):
        assert f == "%s/sitemap-%d.xml" % (base, i + 1), "index entry %r" % f
        rf = srv.get("/sitemap-%d.xml" % (i + 1))
        assert rf.status == 200, "/sitemap-%d.xml: %d" % (i + 1, rf.status)
        urls = sitemap_urls(rf.body, "/sitemap-%d.xml" % (i + 1))
        assert 1 <= len(urls) <= 10, "/sitemap-%d.xml has %d URLs" % (i + 1, len(urls))
        seen += [u[0] for u in urls]
    assert len(seen) == total and len(set(seen)) == total, "%d URLs over the files, want %d distinct" % (
        len(seen), total)
    assert "%s/articles/%d" % (base, s["xss"]) in seen
    assert "%s/articles/%d" % (base, s["future"]) not in seen, "future article in the sitemap"
    for bad in ("/sitemap-0.xml", "/sitemap-%d.xml" % (len(files) + 1), "/sitemap-01.xml"):
        assert srv.get(bad).status == 404, "GET %s: want 404" % bad


def test_feeds_with_excerpts_only_and_odd_titles():
    s = side()
    srv = s["srv"]
    for p, atom in (("/feed", False), ("/feed/atom", True),
                    ("/category/%s/feed" % s["slug"], False),
                    ("/category/%s/feed/atom" % s["slug"], True)):
        _, d = fetch_feed(p, "application/atom+xml" if atom else "application/rss+xml", getter=srv.get)
        for e in d.entries:
            assert not e.get("content"), "%s: full content with feed.full_content=0" % p
            assert e.get("summary"), "%s: entry without a summary" % p
        titles = [e.get("title") for e in d.entries]
        assert XSS_TITLE in titles, \
            "%s: the odd title did not survive as text: %s" % (p, titles[:3])


def test_scheduled_article_hidden_everywhere_until_its_time():
    s = side()
    srv = s["srv"]
    # one more, going live in a few seconds, written while the server runs
    con = kiji.connect(srv.db)
    try:
        s["soon_at"] = int(time.time()) + 8
        s["soon"] = _insert_article(con, "まもなく公開 SOON-ONE", s["soon_at"], s["category"],
                                    s["tags"])
        con.commit()
    finally:
        con.close()
    fid, soon = s["future"], s["soon"]

    def ids():
        """Links to the hidden articles: "soon" only while it is hidden."""
        out = ["/articles/%d\"" % fid, "/articles/%d<" % fid]
        if time.time() < s["soon_at"] - 1:
            out += ["/articles/%d\"" % soon, "/articles/%d<" % soon]
        return out
    cat = "/category/%s" % s["slug"]
    jst = kiji.JST
    months = {dt.datetime.fromtimestamp(t, jst).strftime("/archive/%Y/%m")
              for t in (kiji.now_epoch(), kiji.now_epoch() + 3600)}
    paths = ["/", cat, "/feed", "/feed/atom", cat + "/feed", cat + "/feed/atom", "/sitemap.xml",
             "/ranking"] + sorted(months) + ["/tag/%s" % t for t in s["tag_slugs"]]
    paths += ["/sitemap-%d.xml" % i for i in range(1, 8)]
    for p in paths:
        r = srv.get(p)
        if p.startswith("/sitemap-") and r.status == 404:
            continue
        assert r.status == 200, "GET %s: %d" % (p, r.status)
        for needle in ids():
            assert needle not in r.text, "GET %s shows the scheduled article (%s)" % (p, needle)
    # related and prev/next of every post in its category
    for (aid,) in srv.sql("SELECT id FROM articles WHERE category_id = ? AND status = 'published'"
                          " AND published_at <= ?", (s["category"], kiji.now_epoch())):
        body = srv.page("/articles/%d" % aid).text
        for needle in ids():
            assert needle not in body, "article %d links the scheduled article (%s)" % (aid, needle)
    d = srv.page("/articles/%d" % s["newest"]).doc
    assert d.select_one("nav.prev-next a[rel=next]") is None, \
        "the newest visible post has a rel=next link (to a scheduled one?)"
    for a in (fid, soon):
        assert srv.get("/articles/%d" % a).status == 404, "scheduled article %d answers" % a
    # ... and appears once its time has come
    wait = s["soon_at"] + 1 - time.time()
    if wait > 0:
        time.sleep(wait)
    maps = "".join(srv.get("/sitemap-%d.xml" % i).text for i in range(1, 9))
    for p in ("/feed", "/feed/atom", cat + "/feed", "sitemap"):
        text = maps if p == "sitemap" else srv.get(p).text
        assert re.search(r'/articles/%d["<]' % soon, text), \
            "%s: the article published at %d is still missing" % (p, s["soon_at"])
        assert not re.search(r'/articles/%d["<]' % fid, text)
    assert srv.get("/articles/%d" % soon).status == 200
    assert srv.get("/articles/%d" % fid).status == 404
