"""Monthly and tag archives (cards, headings, pagination edges), the head of
every page type (canonical URL, title, description, OGP) and the article's
JSON-LD NewsArticle, including a title built to break out of <script>."""

import datetime as dt
import json
import re
import sqlite3
from urllib.parse import quote

import kiji
from kiji import get, page, model, request

_cache = {}


# ---- helpers --------------------------------------------------------------------------

def base_url():
    return (model().setting("site.base_url") or "http://127.0.0.1:8080").rstrip("/")


def per_page():
    return int(model().setting("listing.per_page") or 20)


def cards(doc):
    lis = doc.select("ol.article-cards > li.card")
    links = []
    for li in lis:
        t = li.select_one("a.card-title")
        assert t is not None, "li.card without a.card-title"
        links.append(t)
    return lis, kiji.ids_from_links(links)


def rel_link(doc, rel):
    a = doc.select("nav.pagination a[rel~=%s]" % rel)
    return a[0].get("href") if a else None


def assert_404(path):
    r = request("GET", path)
    assert r.status == 404, "GET %s: %d, want 404\n%s" % (path, r.status, r.text[:200])
    assert r.content_type == "text/html" and kiji.has_japanese(r.text), \
        "GET %s: 404 is not a Japanese page" % path
    return r


def month_of(t):
    d = dt.datetime.fromtimestamp(t, kiji.JST)
    return d.year, d.month


def posts_by_month():
    if "months" not in _cache:
        by = {}
        for a in model().visible_posts():
            by.setdefault(month_of(a.published_at), []).append(a)
        _cache["months"] = by
    return _cache["months"]


def walk_listing(base, want_ids, label):
    """Every page of a listing: the right cards in order, rel links, and the
    404 edges (page 0, past the end, not a number)."""
    n = per_page()
    pages = max(1, (len(want_ids) + n - 1) // n)
    got = []
    for p in range(1, pages + 1):
        path = base if p == 1 else "%s?page=%d" % (base, p)
        d = page(path).doc
        _, ids = cards(d)
        assert ids == want_ids[(p - 1) * n:p * n], "%s page %d\n got  %s\n want %s" % (
            label, p, ids, want_ids[(p - 1) * n:p * n])
        got += ids
        prev = rel_link(d, "prev")
        nxt = rel_link(d, "next")
        assert prev == (None if p == 1 else base if p == 2 else "%s?page=%d" % (base, p - 1)), \
            "%s page %d rel=prev %r" % (label, p, prev)
        assert nxt == (None if p == pages else "%s?page=%d" % (base, p + 1)), \
            "%s page %d rel=next %r" % (label, p, nxt)
    assert got == want_ids
    for q in ("0", str(pages + 1), "abc", "-1", "1.5", ""):
        assert_404("%s?page=%s" % (base, q))
    return pages


def check_card_parts(doc, label):
    m = model()
    lis, ids = cards(doc)
    for li, aid in zip(lis, ids):
        a = m.articles[aid]
        if a.eyecatch:
            img = li.select_one("img")
            assert img is not None and img.get("src") == a.eyecatch, "%s card %d eyecatch" % (label, aid)
        lab = li.select_one("span.cat-label")
        if a.category_id in m.categories:
            assert lab is not None and lab.text_norm() == m.categories[a.category_id].name, \
                "%s card %d category label" % (label, aid)
        t = li.select_one("time")
        assert t is not None and t.text_norm() == kiji.ja_date(a.published_at), \
            "%s card %d date %r" % (label, aid, t and t.text_norm())
        assert li.select_one("p.excerpt") is not None and li.select_one("p.excerpt").text_norm(), \
            "%s card %d excerpt" % (label, aid)
        cc = li.select_one("span.comment-count")
        assert cc is not None and re.search(r"\d", cc.text()), "%s card %d comment count" % (label, aid)


# ---- monthly archives --------------------------------------------------------------------

def test_month_archive_every_month():
    by = posts_by_month()
    assert len(by) >= 2, "the demo's posts span fewer than two months: %s" % sorted(by)
    for (y, mo), posts in sorted(by.items()):
        base = "/archive/%04d/%02d" % (y, mo)
        label = base
        walk_listing(base, [a.id for a in posts], label)
        d = page(base).doc
        h = d.select_one("h1.archive-title")
        assert h is not None and h.text_norm() == "%d年 %d月" % (y, mo), \
            "%s heading %r, want %r" % (base, h and h.text_norm(), "%d年 %d月" % (y, mo))
        check_card_parts(d, label)


def test_month_archive_is_paginated():
    by = posts_by_month()
    (y, mo), posts = max(by.items(), key=lambda kv: len(kv[1]))
    assert len(posts) > per_page(), "no month with more than %d posts (biggest %d-%02d: %d)" % (
        per_page(), y, mo, len(posts))


def test_month_archive_bad_urls():
    y, mo = max(posts_by_month())
    for p in ("/archive/%d/13" % y, "/archive/%d/00" % y, "/archive/%d/001" % y,
              "/archive/0%d/%02d" % (y, mo), "/archive/1969/12", "/archive/2000/01",
              "/archive/%d" % y, "/archive/%d/%02d/x" % (y, mo), "/archive/abcd/01",
              "/archive/%d/ab" % y):
        assert_404(p)
    r = request("GET", "/archive/%d/%d?page=2" % (y, mo))
    if mo < 10:
        assert r.status == 301, "/archive/%d/%d: %d, want 301 to the two-digit month" % (y, mo, r.status)
        loc = r.header("location") or ""
        assert loc.endswith("/archive/%d/%02d?page=2" % (y, mo)), "redirect to %r" % loc
    kiji.assert_alive()


def test_month_archive_never_lists_hidden_posts():
    m = model()
    hidden = [a for a in m.articles.values() if a.kind == "post" and not m.visible(a)
              and a.published_at]
    assert hidden, "the demo has no hidden posts"
    for a in hidden:
        y, mo = month_of(a.published_at)
        r = get("/archive/%04d/%02d" % (y, mo))
        if r.status == 404:
            continue
        n = 1
        while r.status == 200:
            assert 'href="/articles/%d"' % a.id not in r.text, \
                "hidden article %d (%s) in /archive/%04d/%02d" % (a.id, a.status, y, mo)
            n += 1
            r = get("/archive/%04d/%02d?page=%d" % (y, mo, n))


# ---- tag archives ----------------------------------------------------------------------------

def _tags():
    con = kiji.connect(kiji.state().db, ro=True)
    try:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT id, slug, name FROM tags")}
    finally:
        con.close()


def test_tag_archive():
    m = model()
    tags = _tags()
    counts = {}
    for a in m.visible_posts():
        for t in m.article_tags.get(a.id, ()):
            counts[t] = counts.get(t, 0) + 1
    assert counts, "no tagged posts"
    tid = max(counts, key=lambda t: (counts[t], -t))
    slug, name = tags[tid]
    want = [a.id for a in m.visible_posts() if tid in m.article_tags.get(a.id, ())]
    base = "/tag/" + quote(slug, safe="")
    walk_listing(base, want, base)
    d = page(base).doc
    h = d.select_one("h1.archive-title")
    assert h is not None and name in h.text(), "tag heading %r lacks %r" % (h and h.text_norm(), name)
    check_card_parts(d, base)
    assert_404("/tag/no-such-tag")


# ---- every page's head -------------------------------------------------------------------------

def _page_types():
    m = model()
    vis = m.visible_posts()
    cat = m.categories[vis[0].category_id]
    y, mo = month_of(vis[0].published_at)
    tid = next(iter(m.article_tags.get(vis[0].id, ())), None)
    out = [("/", "/"), ("/?page=2", "/?page=2"),
           ("/category/%s" % cat.slug, None), ("/category/%s?page=2" % cat.slug, None),
           ("/archive/%04d/%02d" % (y, mo), None), ("/articles/%d" % vis[0].id, None),
           ("/ranking", None)]
    if tid is not None:
        out.append(("/tag/%s" % quote(_tags()[tid][0], safe=""), None))
    return [(p, c or p) for p, c in out]


def test_every_page_has_canonical_title_description():
    titles = {}
    descs = {}
    for path, canon in _page_types():
        r = get(path)
        if path.endswith("?page=2") and r.status == 404:
            continue
        assert r.status == 200, "GET %s: %d" % (path, r.status)
        d = r.doc
        links = d.select("link[rel=canonical]")
        assert len(links) == 1, "%s: %d canonical links" % (path, len(links))
        want = base_url() + canon
        assert links[0].get("href") == want, "%s canonical %r, want %r" % (path, links[0].get("href"), want)
        t = d.select_one("head title")
        assert t is not None and t.text_norm(), "%s: no <title>" % path
        md = d.select("meta[name=description]")
        assert len(md) == 1 and md[0].get("content", "").strip(), "%s: no meta description" % path
        og = d.select_one('meta[property="og:url"]')
        assert og is not None and og.get("content") == want, "%s og:url %r" % (path, og and og.get("content"))
        titles.setdefault(t.text_norm(), []).append(path)
        descs.setdefault(md[0].get("content"), []).append(path)
    dup = {k: v for k, v in titles.items() if len(v) > 1}
    assert not dup, "pages share a <title>: %s" % dup
    dup = {k[:40]: v for k, v in descs.items() if len(v) > 1}
    assert not dup, "pages share a meta description: %s" % dup


def test_error_page_head():
    r = assert_404("/no/such/page")
    d = r.doc
    assert d.select_one("head title") is not None and d.select_one("head title").text_norm()
    md = d.select_one("meta[name=description]")
    assert md is not None and md.get("content"), "404 page: no meta description"
    assert d.select_one("link[rel=canonical]") is None, "404 page has a canonical URL"
    rb = d.select_one("meta[name=robots]")
    assert rb is not None and "noindex" in rb.get("content", ""), "404 page is not noindex"


# ---- OGP and JSON-LD ----------------------------------------------------------------------------------

def ld_json(doc, label):
    s = doc.select('script[type="application/ld+json"]')
    assert len(s) == 1, "%s: %d JSON-LD scripts" % (label, len(s))
    raw = s[0].text()
    assert "</" not in raw and "<!--" not in raw, "%s: JSON-LD can close its script: %r" % (label, raw[:200])
    try:
        return json.loads(raw)
    except ValueError as e:
        raise AssertionError("%s: JSON-LD is not valid JSON (%s):\n%s" % (label, e, raw[:500]))


def _article_with_sources():
    m = model()
    for a in m.visible_posts():
        if m.sources.get(a.id) and a.eyecatch and a.category_id in m.categories:
            return a
    raise AssertionError("no visible post with sources, eyecatch and category")


def test_article_ogp_tags():
    m = model()
    a = _article_with_sources()
    d = page("/articles/%d" % a.id).doc
    meta = {}
    for x in d.select("meta[property], meta[name]"):
        meta.setdefault(x.get("property") or x.get("name"), x.get("content"))
    url = "%s/articles/%d" % (base_url(), a.id)
    want = {"og:type": "article", "og:title": a.title, "og:url": url,
            "og:site_name": m.setting("site.title"), "twitter:card": "summary_large_image",
            "article:section": m.categories[a.category_id].name}
    for k, v in want.items():
        assert meta.get(k) == v, "og %s = %r, want %r" % (k, meta.get(k), v)
    img = a.eyecatch if a.eyecatch.startswith("http") else base_url() + a.eyecatch
    assert meta.get("og:image") == img, "og:image %r, want %r" % (meta.get("og:image"), img)
    assert meta.get("og:description"), "no og:description"
    for k in ("article:published_time", "article:modified_time"):
        v = meta.get(k) or ""
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", v), "%s %r" % (k, v)
    assert int(dt.datetime.fromisoformat(meta["article:published_time"]).timestamp()) == a.published_at


def test_article_json_ld():
    m = model()
    a = _article_with_sources()
    d = page("/articles/%d" % a.id).doc
    j = ld_json(d, "/articles/%d" % a.id)
    assert j.get("@context") == "https://schema.org" and j.get("@type") == "NewsArticle", j
    assert j.get("headline") == a.title, "headline %r" % j.get("headline")
    pub = int(dt.datetime.fromisoformat(j["datePublished"]).timestamp())
    assert pub == a.published_at, "datePublished %r" % j.get("datePublished")
    mod = int(dt.datetime.fromisoformat(j["dateModified"]).timestamp())
    assert mod >= pub, "dateModified %r before datePublished" % j.get("dateModified")
    author = m.users[a.author_id].display_name
    assert j.get("author", {}).get("name") == author, "author %r, want %r" % (j.get("author"), author)
    img = a.eyecatch if a.eyecatch.startswith("http") else base_url() + a.eyecatch
    assert j.get("image") in ([img], img), "image %r, want %r" % (j.get("image"), img)
    assert j.get("articleSection") == m.categories[a.category_id].name
    cites = [(c.get("name"), c.get("url")) for c in j.get("citation", [])]
    assert cites == m.sources[a.id], "citation %s\n want %s" % (cites, m.sources[a.id])
    assert j.get("mainEntityOfPage") == "%s/articles/%d" % (base_url(), a.id)
    assert j.get("publisher", {}).get("name") == m.setting("site.title")


def test_json_ld_and_ogp_survive_a_hostile_title():
    import test_feeds  # the side site with an article titled to break out of <script>
    s = test_feeds.side()
    srv = s["srv"]
    r = srv.page("/articles/%d" % s["xss"])
    low = r.text.lower()
    assert "<script>alert(1)" not in low, "the title's <script> reached the page unescaped"
    assert low.count("</script>") == low.count("<script"), "unbalanced script tags"
    d = r.doc
    j = ld_json(d, "hostile title")
    assert j.get("headline") == test_feeds.XSS_TITLE, "JSON-LD headline %r, want %r" % (
        j.get("headline"), test_feeds.XSS_TITLE)
    cites = [(c.get("name"), c.get("url")) for c in j.get("citation", [])]
    assert cites == [("出典 \"</script>\"", "https://example.com/a?b=1&c=2")], cites
    og = d.select_one('meta[property="og:title"]')
    assert og is not None and og.get("content") == test_feeds.XSS_TITLE, "og:title %r" % (
        og and og.get("content"))
    h1 = d.select_one("h1.entry-title")
    assert h1 is not None and h1.text() == test_feeds.XSS_TITLE, "h1 %r" % (h1 and h1.text())


def test_listing_totals_follow_article_changes_with_the_page_cache_off():
    """A listing's total (its page count) is kept between renders
    (counts.c); with the page cache off only it could show an old page
    count. With one page's worth of visible posts exactly: a comment
    leaves it alone, a new post makes a second page, taken down there is
    one again, and a post published for a few seconds ahead makes the
    second page once its time comes."""
    import time
    import uuid
    import test_comments as tc
    s = kiji.server("counts-kept", articles=30, comments=1, seed=29,
                    settings={"cache.max_bytes": "0",
                              "comments.rate_per_minute": "0",
                              "comments.min_fill_seconds": "0"})
    n = s.sql("SELECT COUNT(*) FROM articles WHERE kind = 'post' AND status = 'published'"
              " AND published_at <= ?", (int(time.time()),))[0][0]
    s.cli("config", "set", "listing.per_page", str(n))

    def second_page():
        return s.get("/?page=2").status

    assert s.get("/").status == 200
    assert second_page() == 404
    tc.new_comment(kiji.Visitor(s, ip="rotate"), tc.open_articles(s)[0],
                   "count " + tc.mark())
    assert second_page() == 404, "a comment made a second page"
    f = s.tmp / ("count-%s.md" % uuid.uuid4().hex[:8])
    f.write_text("---\ntitle: 件数%s\nstatus: published\n---\n本文。\n"
                 % uuid.uuid4().hex[:8], "utf-8")
    nid = int(s.cli("post", "new", str(f)).stdout.strip())
    assert second_page() == 200, "a new post made no second page"
    f.write_text("---\nstatus: draft\n---\n", "utf-8")
    s.cli("post", "edit", str(nid), str(f))
    assert second_page() == 404, "a post taken down still makes a second page"
    at = int(time.time()) + 5
    f.write_text("---\ntitle: 予約件数\nstatus: published\ndate: %s\n---\n本文。\n"
                 % time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at)), "utf-8")
    s.cli("post", "new", str(f))
    assert second_page() == 404, "a post whose time has not come made a second page"
    while time.time() < at + 1:
        time.sleep(0.2)
    deadline = time.monotonic() + 15
    while second_page() != 200:
        assert time.monotonic() < deadline, "the post's time came and went: no second page"
        time.sleep(0.2)
