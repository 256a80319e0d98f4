"""Listings (front page, category archives), static files, media and bad
requests."""

import re

import kiji
from kiji import get, page, model, request

_cache = {}


def cards(doc):
    lis = doc.select("ol.article-cards > li.card")
    links = []
    for li in lis:
        t = li.select_one("a.card-title")
        assert t is not None, "li.card without a.card-title"
        links.append(t)
    return lis, kiji.ids_from_links(links)


def page_size():
    if "n" not in _cache:
        _, ids = cards(page("/").doc)
        assert ids, "the front page lists no articles"
        _cache["n"] = len(ids)
    return _cache["n"]


def rel_link(doc, rel):
    nav = doc.select_one("nav.pagination")
    if nav is None:
        return None
    a = nav.select("a[rel~=%s]" % rel)
    assert len(a) <= 1, "%d pagination links with rel=%s" % (len(a), rel)
    return a[0].get("href") if a else None


def _assert_status(path, want, method="GET", headers=None):
    r = request(method, path, headers=headers)
    ok = r.status in want if isinstance(want, (tuple, list, range)) else r.status == want
    assert ok, "%s %s: %d, want %s\n%s" % (method, path[:120], r.status, want, r.text[:300])
    return r


def _assert_404(path):
    r = _assert_status(path, 404)
    assert r.content_type == "text/html", "%s: 404 Content-Type %r" % (path, r.header("content-type"))
    assert kiji.has_japanese(r.text), "%s: 404 page has no Japanese text" % path
    return r


# ---- front page ----------------------------------------------------------------------

def test_front_page_latest_first():
    m = model()
    r = page("/")
    lis, ids = cards(r.doc)
    want = [a.id for a in m.visible_posts()[:len(ids)]]
    assert ids == want, "front page order\n got  %s\n want %s" % (ids, want)
    assert r.doc.select_one("h1.archive-title") is not None, "no h1.archive-title"
    for li, aid in zip(lis, ids):
        a = m.articles[aid]
        lab = li.select_one("span.cat-label")
        assert lab is not None, "card %d without span.cat-label" % aid
        if a.category_id in m.categories:
            assert lab.text_norm() == m.categories[a.category_id].name, \
                "card %d cat-label %r" % (aid, lab.text_norm())
        assert li.select_one("a.card-title").text_norm() == re.sub(r"\s+", " ", a.title).strip(), \
            "card %d title" % aid
        assert li.select_one("time") is not None, "card %d without time" % aid
        assert li.select_one("p.excerpt") is not None, "card %d without p.excerpt" % aid
        cc = li.select_one("span.comment-count")
        assert cc is not None, "card %d without span.comment-count" % aid
        n = re.sub(r"[^0-9]", "", cc.text())
        allowed = {str(len(m.approved_comments(aid))),
                   str(len(m.approved_comments(aid, ("comment", "trackback", "pingback"))))}
        assert n in allowed, "card %d comment count %r, want one of %s" % (aid, cc.text(), allowed)


def test_front_page_pagination():
    m = model()
    n = page_size()
    vis = m.visible_posts()
    total = len(vis)
    assert total > n, "only %d visible posts: the front page is not paginated (page size %d)" % (total, n)
    d1 = page("/").doc
    assert rel_link(d1, "prev") is None, "page 1 has a rel=prev link"
    assert rel_link(d1, "next") == "/?page=2", "page 1 rel=next %r, want /?page=2" % rel_link(d1, "next")
    d2 = page("/?page=2").doc
    _, ids2 = cards(d2)
    want2 = [a.id for a in vis[n:2 * n]]
    assert ids2 == want2, "page 2\n got  %s\n want %s" % (ids2, want2)
    assert rel_link(d2, "prev") == "/", "page 2 rel=prev %r, want /" % rel_link(d2, "prev")
    last = (total + n - 1) // n
    if last > 2:
        assert rel_link(d2, "next") == "/?page=3", "page 2 rel=next %r" % rel_link(d2, "next")
    dl = page("/?page=%d" % last).doc
    _, idsl = cards(dl)
    assert idsl == [a.id for a in vis[(last - 1) * n:]], "last page %d ids %s" % (last, idsl)
    assert rel_link(dl, "next") is None, "last page has rel=next"
    _assert_404("/?page=%d" % (last + 1))


def test_front_page_bad_page_numbers_404():
    for q in ("0", "99999", "abc"):
        _assert_404("/?page=%s" % q)
        kiji.assert_alive()


def test_front_page_ranking_and_page_top():
    d = page("/").doc
    lis = d.select("aside#ranking ol.ranking > li")
    assert len(lis) == min(5, len(model().visible_posts())), "front page ranking has %d li" % len(lis)
    a = d.select_one("a#page-top")
    assert a is not None and a.get("href") == "#top", "front page: no a#page-top to #top"
    can = d.select_one("link[rel=canonical]")
    base = model().setting("site.base_url")
    assert can is not None, "front page: no canonical"
    if base:
        assert can.get("href") in (base.rstrip("/") + "/", base.rstrip("/")), \
            "front page canonical %r, base_url %r" % (can.get("href"), base)


# ---- category archive ------------------------------------------------------------------

def _biggest_category():
    m = model()
    counts = {}
    for a in m.visible_posts():
        counts[a.category_id] = counts.get(a.category_id, 0) + 1
    cid = max(counts, key=lambda c: (counts[c], -c))
    return m.categories[cid], [a for a in m.visible_posts() if a.category_id == cid]


def test_category_archive_lists_only_that_category():
    m = model()
    cat, posts = _biggest_category()
    r = page("/category/%s" % cat.slug)
    t = r.doc.select_one("h1.archive-title")
    assert t is not None and cat.name in t.text(), "archive title %r lacks %r" % (
        t and t.text_norm(), cat.name)
    _, ids = cards(r.doc)
    assert ids, "category %s lists nothing" % cat.slug
    for i in ids:
        assert m.articles[i].category_id == cat.id, "article %d in /category/%s is in category %s" % (
            i, cat.slug, m.articles[i].category_id)
    want = [a.id for a in posts[:len(ids)]]
    assert ids == want, "/category/%s\n got  %s\n want %s" % (cat.slug, ids, want)


def test_category_archive_paginated():
    m = model()
    cat, posts = _biggest_category()
    d1 = page("/category/%s" % cat.slug).doc
    _, ids1 = cards(d1)
    n = len(ids1)
    if len(posts) <= n:
        assert rel_link(d1, "next") is None, "single-page category has rel=next"
        # pick any category with more than one page, if the demo has one
        raise AssertionError("no category with more than %d visible posts (biggest: %s with %d)" % (
            n, cat.slug, len(posts)))
    base = "/category/%s" % cat.slug
    assert rel_link(d1, "next") == base + "?page=2", "rel=next %r" % rel_link(d1, "next")
    d2 = page(base + "?page=2").doc
    _, ids2 = cards(d2)
    assert ids2 == [a.id for a in posts[n:2 * n]], "%s?page=2 ids %s" % (base, ids2)
    for i in ids2:
        assert m.articles[i].category_id == cat.id
    assert rel_link(d2, "prev") == base, "page 2 rel=prev %r, want %s" % (rel_link(d2, "prev"), base)
    last = (len(posts) + n - 1) // n
    _assert_404(base + "?page=%d" % (last + 1))
    _assert_404(base + "?page=0")


def test_unknown_category_404():
    _assert_404("/category/no-such-category")
    _assert_404("/category/%E5%AD%98%E5%9C%A8%E3%81%97%E3%81%AA%E3%81%84")  # 存在しない
    kiji.assert_alive()


# ---- static and media ------------------------------------------------------------------

def test_static_css_served_with_cache_control():
    d = page("/").doc
    css = [x.get("href") for x in d.select("link[rel~=stylesheet][href]")
           if x.get("href").startswith("/static/")]
    assert css, "no /static/ stylesheet linked from the front page"
    for href in css:
        path = href.split("#")[0]
        r = get(path)
        assert r.status == 200, "GET %s: %d" % (path, r.status)
        assert r.content_type == "text/css", "GET %s: Content-Type %r" % (path, r.header("content-type"))
        cc = r.header("cache-control")
        assert cc and re.search(r"max-age=\d+|immutable|no-cache", cc), "GET %s: Cache-Control %r" % (path, cc)
        assert len(r.body) > 0, "empty CSS"


def test_static_js_served():
    d = page("/").doc
    js = [x.get("src") for x in d.select("script[src]") if x.get("src").startswith("/static/")]
    for src in js:
        r = get(src)
        assert r.status == 200, "GET %s: %d" % (src, r.status)
        assert r.content_type in ("text/javascript", "application/javascript"), \
            "GET %s: Content-Type %r" % (src, r.header("content-type"))
        assert r.header("cache-control"), "GET %s: no Cache-Control" % src


def test_static_missing_and_traversal():
    _assert_status("/static/no-such-file.css", 404)
    for p in ("/static/../kiji.db", "/static/%2e%2e/%2e%2e/etc/passwd",
              "/static/..%2f..%2fMakefile", "/static//etc/passwd"):
        r = request("GET", p)
        assert 400 <= r.status < 500, "GET %s: %d, want 4xx" % (p, r.status)
        assert b"root:" not in r.body and b"SANITIZE" not in r.body, "GET %s leaked a file" % p
        kiji.assert_alive()


def test_media_svg():
    m = model()
    srcs = []
    for a in m.visible_posts()[:5]:
        d = page("/articles/%d" % a.id).doc
        srcs += [i.get("src") for i in d.select("img[src]") if i.get("src").startswith("/media/")]
    assert srcs, "no /media/ image on the first 5 articles"
    svg = [s for s in srcs if s.endswith(".svg")] or srcs
    for s in svg[:3]:
        r = get(s)
        assert r.status == 200, "GET %s: %d" % (s, r.status)
        assert r.content_type == "image/svg+xml", "GET %s: Content-Type %r" % (s, r.header("content-type"))
        assert b"<svg" in r.body[:2000], "GET %s: not an SVG" % s
    _assert_status("/media/no-such-image.svg", 404)


# ---- bad requests ------------------------------------------------------------------------

def test_invalid_utf8_path_is_400():
    for p in ("/articles/%FF", "/category/%FF", "/category/%C3%28", "/category/%ED%A0%80"):
        r = request("GET", p)
        assert r.status == 400, "GET %s: %d, want 400" % (p, r.status)
        assert r.content_type == "text/html" and kiji.has_japanese(r.text), \
            "GET %s: 400 page is not Japanese HTML (%r)" % (p, r.header("content-type"))
        kiji.assert_alive()


def test_invalid_utf8_query_is_400():
    for p in ("/?page=%FF", "/category/x?page=%C0%AF"):
        r = request("GET", p)
        assert r.status == 400, "GET %s: %d, want 400" % (p, r.status)
        kiji.assert_alive()


def test_very_long_url_is_4xx():
    for p in ("/articles/" + "1" * 300, "/category/" + "a" * 5000,
              "/articles/" + "a" * 20000, "/?page=1&" + "x=1&" * 20000):
        try:
            r = request("GET", p)
        except (ConnectionError, OSError) as e:
            raise AssertionError("GET <%d-byte URL>: no answer (%s)" % (len(p), e))
        assert 400 <= r.status < 500, "GET <%d-byte URL %s...>: %d, want 4xx" % (len(p), p[:30], r.status)
        kiji.assert_alive()


def test_huge_header_is_4xx_or_ignored():
    try:
        r = request("GET", "/", headers={"X-Big": "x" * 200000})
        assert r.status < 500, "GET / with a 200 KB header: %d" % r.status
    except (ConnectionError, OSError):
        pass  # closing the connection on an oversize request is acceptable
    kiji.assert_alive()


def test_unsupported_method_is_4xx():
    for method, path in (("PUT", "/"), ("DELETE", "/articles/1"), ("POST", "/category/x")):
        r = request(method, path, body=b"")
        assert 400 <= r.status < 500, "%s %s: %d, want 4xx" % (method, path, r.status)
        kiji.assert_alive()


def test_server_still_answers():
    kiji.assert_alive()
    r = get("/articles/%d" % model().visible_posts()[0].id)
    assert r.status == 200, "article after the bad requests: %d" % r.status
