"""The article page /articles/<id>, part by part (docs/markup.md items 1-12),
compared with the rows of the demo database."""

import datetime as dt
import re

import kiji
from kiji import get, head, page, model

DATE_RE = re.compile(r"^\d{4}年 \d{1,2}月 \d{2}日$")
NO_TRACKBACKS = "この記事へのトラックバックはありません。"
_cache = {}


# ---- choosing articles ----------------------------------------------------------

def _cat_counts():
    counts = {}
    for a in model().visible_posts():
        counts[a.category_id] = counts.get(a.category_id, 0) + 1
    return counts


def _has_figure(a):
    if a.body_html:
        return "<figure" in a.body_html and "出典" in a.body_html
    return "出典" in a.body and "![" in a.body


def _max_depth(aid):
    m = model()
    cs = m.approved_comments(aid)
    return max((m.comment_depth(c) for c in cs), default=0)


def main_article():
    """A visible post with as many page parts as the demo offers: sources,
    a category with >= 6 other posts, threaded comments, a figure, an
    eyecatch credit, and both neighbours."""
    if "main" in _cache:
        return _cache["main"]
    m = model()
    vis = m.visible_posts()
    assert vis, "the demo site has no visible posts"
    counts = _cat_counts()

    def score(i_a):
        i, a = i_a
        s = 0
        s += bool(m.sources.get(a.id))
        s += counts.get(a.category_id, 0) - 1 >= 6
        s += _max_depth(a.id) >= 2
        s += _has_figure(a)
        s += bool(a.eyecatch_credit)
        s += 0 < i < len(vis) - 1
        return (s, -i)

    best = max(enumerate(vis), key=score)[1]
    _cache["main"] = best
    return best


def article_page(a):
    key = ("page", a.id)
    if key not in _cache:
        _cache[key] = page("/articles/%d" % a.id)
    return _cache[key]


def own(li, selector):
    """Elements matching selector inside comment li but not inside a nested one."""
    return [n for n in li.select(selector) if n.closest("li.comment") is li]


def nows(s):
    return re.sub(r"\s+", "", s)


def comment_articles():
    """Articles to check comments on: the main one, the most commented and
    the one with the deepest thread."""
    m = model()
    vis = m.visible_posts()
    out = [main_article()]
    most = max(vis, key=lambda a: (len(m.approved_comments(a.id)), -a.id))
    deep = max(vis, key=lambda a: (_max_depth(a.id), -a.id))
    for a in (most, deep):
        if a.id not in [x.id for x in out]:
            out.append(a)
    return out


# ---- 1. category label ------------------------------------------------------------

def test_category_label_links_to_archive():
    a = main_article()
    m = model()
    d = article_page(a).doc
    h1 = d.select_one("h1.entry-title")
    assert h1 is not None, "no h1.entry-title"
    labels = [x for x in d.select("a.cat-label") if x.index < h1.index]
    assert labels, "no a.cat-label above h1.entry-title"
    lab = labels[-1]
    cat = m.categories[a.category_id]
    assert lab.get("href") == "/category/%s" % cat.slug, \
        "cat-label href %r, want /category/%s" % (lab.get("href"), cat.slug)
    assert lab.text_norm() == cat.name, "cat-label text %r, want %r" % (lab.text_norm(), cat.name)
    r = page(lab.get("href"))
    t = r.doc.select_one("h1.archive-title")
    assert t is not None and cat.name in t.text(), "category archive title %r lacks %r" % (
        t and t.text_norm(), cat.name)


# ---- 2. title, date, author -----------------------------------------------------------

def test_title():
    a = main_article()
    d = article_page(a).doc
    h1 = d.select("article.entry h1.entry-title")
    assert len(h1) == 1, "want one article.entry h1.entry-title, got %d" % len(h1)
    assert h1[0].text_norm() == re.sub(r"\s+", " ", a.title).strip(), \
        "title %r, want %r" % (h1[0].text_norm(), a.title)
    t = d.select_one("head title")
    assert t is not None and a.title.strip() in t.text(), "<title> %r lacks the article title" % (
        t and t.text_norm())


def test_date_is_japanese_and_in_tokyo_time():
    m = model()
    for a in [main_article()] + m.visible_posts()[:3]:
        d = article_page(a).doc
        t = d.select_one("article.entry time.entry-date")
        assert t is not None, "/articles/%d: no time.entry-date" % a.id
        text = t.text().strip()
        assert DATE_RE.match(text), "/articles/%d: date %r does not match %s" % (
            a.id, text, DATE_RE.pattern)
        tz = kiji.zoneinfo.ZoneInfo(m.setting("site.timezone") or "Asia/Tokyo")
        want = kiji.ja_date(a.published_at, tz)
        assert text == want, "/articles/%d: date %r, want %r (published_at %d in %s)" % (
            a.id, text, want, a.published_at, tz)
        attr = t.get("datetime")
        assert attr, "/articles/%d: time.entry-date has no datetime" % a.id
        v = attr.replace("Z", "+00:00")
        parsed = dt.datetime.fromisoformat(v)
        if "T" in attr:
            assert parsed.tzinfo is not None, "datetime %r has no offset" % attr
            assert int(parsed.timestamp()) == a.published_at, \
                "datetime %r != published_at %d" % (attr, a.published_at)
        else:
            local = dt.datetime.fromtimestamp(a.published_at, tz).date()
            assert parsed.date() == local, "datetime %r, want %s" % (attr, local)


def test_author():
    a = main_article()
    m = model()
    d = article_page(a).doc
    s = d.select_one("article.entry span.entry-author")
    assert s is not None, "no span.entry-author"
    assert s.text_norm(), "empty span.entry-author"
    u = m.users.get(a.author_id)
    if u is not None:
        # the span may carry a label before the name (投稿者: …)
        assert s.text_norm() == u.display_name or s.text_norm().endswith(" " + u.display_name) \
            or s.text_norm().endswith(":" + u.display_name) \
            or s.text_norm().endswith("：" + u.display_name), \
            "author %r, want %r" % (s.text_norm(), u.display_name)


# ---- 3. body with a figure -------------------------------------------------------------

def test_body_has_figure_with_source_caption():
    m = model()
    cands = [a for a in m.visible_posts() if _has_figure(a)]
    if not cands:  # no rendered HTML to look at in the DB: look at pages
        cands = m.visible_posts()[:30]
    seen = []
    for a in cands[:30]:
        d = article_page(a).doc
        body = d.select_one("article.entry div.entry-body")
        assert body is not None, "/articles/%d: no div.entry-body" % a.id
        assert body.text_norm(), "/articles/%d: empty body" % a.id
        for f in body.select("figure"):
            cap = f.select_one("figcaption")
            img = f.select_one("img")
            if cap is not None and img is not None:
                seen.append((a.id, cap.text_norm()))
                assert img.get("src"), "/articles/%d: figure img without src" % a.id
                assert cap.text_norm().startswith("出典"), \
                    "/articles/%d: figcaption %r does not start with 出典" % (a.id, cap.text_norm())
                assert img.index < cap.index, "figcaption before img"
        if seen:
            return
    raise AssertionError("no figure > img + figcaption in the body of any of %s" % (
        [a.id for a in cands[:30]]))


# ---- 4. sources -----------------------------------------------------------------------

def test_sources_match_db_in_order():
    m = model()
    a = main_article()
    cands = [a] + [x for x in m.visible_posts() if m.sources.get(x.id)][:3]
    checked = 0
    for a in cands:
        want = [(re.sub(r"\s+", " ", t).strip(), u) for t, u in m.sources.get(a.id, [])]
        d = article_page(a).doc
        lis = d.select("ul.sources > li")
        if not want:
            assert not lis, "/articles/%d: no sources in DB but %d li" % (a.id, len(lis))
            continue
        got = []
        for li in lis:
            assert li.text_norm().startswith("参考:") or li.text_norm().startswith("参考："), \
                "/articles/%d: source line %r does not start with 参考:" % (a.id, li.text_norm())
            link = li.select_one("a[href]")
            assert link is not None, "/articles/%d: source li without a link" % a.id
            assert "nofollow" in (link.get("rel") or "").split(), \
                "/articles/%d: source link rel %r lacks nofollow" % (a.id, link.get("rel"))
            got.append((link.text_norm(), link.get("href")))
        assert got == want, "/articles/%d: sources\n got  %r\n want %r" % (a.id, got, want)
        checked += 1
    assert checked, "no visible article has sources in the DB"


# ---- 5. in-body related links ------------------------------------------------------------

def test_in_body_related_links_point_to_articles():
    m = model()
    found = 0
    for a in m.visible_posts()[:40]:
        if a.body and "関連記事" not in a.body:
            continue
        body = article_page(a).doc.select_one("div.entry-body")
        for p in body.select("p"):
            if p.text_norm().startswith("関連記事"):
                links = p.select("a[href]")
                assert links, "/articles/%d: 関連記事 line without a link" % a.id
                for ln in links:
                    mm = re.fullmatch(r"(?:https?://[^/]+)?/articles/([1-9][0-9]*)", ln.get("href"))
                    assert mm, "/articles/%d: 関連記事 link %r" % (a.id, ln.get("href"))
                    assert int(mm.group(1)) in m.articles, "link to unknown article %s" % mm.group(1)
                found += 1
        if found >= 3:
            break
    assert found, "no 関連記事 line in the first 40 visible articles"


# ---- 6. eyecatch --------------------------------------------------------------------------

def test_eyecatch_image_and_credit():
    a = main_article()
    d = article_page(a).doc
    fig = d.select_one("figure.eyecatch")
    assert fig is not None, "no figure.eyecatch"
    img = fig.select_one("img")
    assert img is not None and img.get("src"), "figure.eyecatch has no img[src]"
    if a.eyecatch:
        assert img.get("src") == a.eyecatch or img.get("src").endswith(a.eyecatch), \
            "eyecatch src %r, want %r" % (img.get("src"), a.eyecatch)
    body = d.select_one("div.entry-body")
    assert fig.index < body.index, "figure.eyecatch is not before the body"
    cr = d.select_one("p.eyecatch-credit")
    assert cr is not None, "no p.eyecatch-credit"
    assert cr.index > body.index, "p.eyecatch-credit is not after the body"
    t = cr.text_norm()
    assert t.startswith("※アイキャッチ画像の出典"), "eyecatch credit %r" % t
    if a.eyecatch_credit and not re.search(r"[<\[\]]", a.eyecatch_credit):
        assert nows(a.eyecatch_credit) in nows(t), "credit %r lacks %r" % (t, a.eyecatch_credit)


# ---- 7. previous / next ----------------------------------------------------------------------

def _neighbours(a):
    asc = list(reversed(model().visible_posts()))
    i = [x.id for x in asc].index(a.id)
    return (asc[i - 1] if i > 0 else None), (asc[i + 1] if i + 1 < len(asc) else None)


def _check_pn(link, want, label):
    assert link.get("href") == "/articles/%d" % want.id, "%s href %r, want /articles/%d" % (
        label, link.get("href"), want.id)
    t = link.select_one("span.pn-title")
    assert t is not None, "%s link has no span.pn-title" % label
    got = t.text_norm()
    title = re.sub(r"\s+", " ", want.title).strip()
    assert got == title or (got.endswith("…") and title.startswith(got[:-1].rstrip())), \
        "%s title %r, want %r" % (label, got, title)


def test_prev_next_link_to_neighbours():
    m = model()
    vis = m.visible_posts()
    cases = [main_article(), vis[0], vis[-1], vis[len(vis) // 2]]
    for a in cases:
        prev, nxt = _neighbours(a)
        d = article_page(a).doc
        nav = d.select_one("nav.prev-next")
        assert nav is not None, "/articles/%d: no nav.prev-next" % a.id
        lp = nav.select("a[rel~=prev]")
        ln = nav.select("a[rel~=next]")
        if prev is None:
            assert not lp, "/articles/%d (oldest) has a prev link %r" % (a.id, lp[0].get("href"))
        else:
            assert len(lp) == 1, "/articles/%d: %d prev links" % (a.id, len(lp))
            _check_pn(lp[0], prev, "/articles/%d prev" % a.id)
            assert "前のページ" in lp[0].text(), "prev link lacks 前のページ"
        if nxt is None:
            assert not ln, "/articles/%d (newest) has a next link %r" % (a.id, ln[0].get("href"))
        else:
            assert len(ln) == 1, "/articles/%d: %d next links" % (a.id, len(ln))
            _check_pn(ln[0], nxt, "/articles/%d next" % a.id)
            assert "次のページ" in ln[0].text(), "next link lacks 次のページ"


# ---- 8. related ------------------------------------------------------------------------------

def _check_related(a):
    m = model()
    others = [x for x in m.visible_posts() if x.category_id == a.category_id and x.id != a.id]
    d = article_page(a).doc
    sec = d.select_one("section#related")
    lis = d.select("section#related ol.related > li")
    want_n = min(6, len(others))
    if want_n:
        assert sec is not None, "/articles/%d: no section#related" % a.id
    assert len(lis) == want_n, "/articles/%d: %d related li, want %d (%d others in category)" % (
        a.id, len(lis), want_n, len(others))
    cat = m.categories.get(a.category_id)
    ids = []
    for li in lis:
        t = li.select_one("a.related-title")
        assert t is not None, "related li without a.related-title"
        rid = kiji.ids_from_links([t])[0]
        assert rid != a.id, "/articles/%d lists itself as related" % a.id
        r = m.articles.get(rid)
        assert r is not None and m.visible(r), "related %d is not a visible article" % rid
        assert r.category_id == a.category_id, "related %d is in category %s, not %s" % (
            rid, r.category_id, a.category_id)
        lab = li.select_one("span.cat-label")
        assert lab is not None, "related li without span.cat-label"
        if cat:
            assert lab.text_norm() == cat.name, "related cat-label %r, want %r" % (
                lab.text_norm(), cat.name)
        ex = li.select_one("p.excerpt")
        assert ex is not None, "related li without p.excerpt"
        _check_excerpt(r, ex.text().strip(), "related %d" % rid)
        ids.append(rid)
    assert len(set(ids)) == len(ids), "duplicate related ids %s" % ids
    # Order: shared tags, then recency (only when the tag table is known).
    if m.article_tags and ids:
        tags = m.article_tags.get(a.id, set())

        def key(x):
            return (len(tags & m.article_tags.get(x.id, set())), x.published_at)
        keys = [key(m.articles[i]) for i in ids]
        assert keys == sorted(keys, reverse=True), \
            "/articles/%d related order (shared tags, published_at) %s" % (a.id, keys)
        rest = [key(x) for x in others if x.id not in ids]
        if rest:
            assert max(rest) <= keys[-1], \
                "/articles/%d: an unlisted article ranks above the listed ones" % a.id


def _check_excerpt(r, shown, label):
    full = r.excerpt or r.body_text
    assert shown, "%s: empty excerpt" % label
    if not full:
        return
    if shown.endswith("…"):
        stem = nows(shown[:-1])
        assert stem and nows(full).startswith(stem), \
            "%s: cut excerpt %r is not the start of its text %r" % (label, shown, full[:80])
        assert len(stem) < len(nows(full)) or nows(full).endswith("…"), \
            "%s: excerpt %r ends with … but is not cut" % (label, shown)
    else:
        assert nows(shown) == nows(full), \
            "%s: excerpt %r is shorter than its text %r but does not end with …" % (
                label, shown, full[:80])


def test_related_six_same_category_never_self():
    a = main_article()
    counts = _cat_counts()
    assert counts[a.category_id] - 1 >= 6, "no category with >= 6 other visible posts"
    _check_related(a)


def test_related_small_category():
    counts = _cat_counts()
    small = [a for a in model().visible_posts() if counts[a.category_id] - 1 < 6]
    for a in small[:2]:
        _check_related(a)
    # and a few more in big categories
    for a in model().visible_posts()[1:4]:
        _check_related(a)


def test_related_block_follows_article_changes_with_the_page_cache_off():
    """The related cards are kept between renders (related.c), and so are
    each tag's window of newest articles; with the page cache off only
    those could show an old block: a related article's new title, an old
    article given the page's tags, a new article of the category and one
    taken down show on the next render, and a comment changes nothing
    there."""
    import uuid
    import test_comments as tc
    s = kiji.server("related-kept", articles=100, comments=2, seed=23,
                    settings={"cache.max_bytes": "0",
                              "comments.rate_per_minute": "0",
                              "comments.min_fill_seconds": "0"})
    card = re.compile(r'class="related-title" href="/articles/(\d+)">([^<]*)<')

    def cards(aid):
        r = s.get("/articles/%d" % aid)
        assert r.status == 200
        return card.findall(r.text)

    aid = tc.open_articles(s)[3]
    first = cards(aid)
    assert first, "article %d shows no related articles" % aid
    assert cards(aid) == first  # (kept: the same block)
    # a comment leaves the block alone
    tc.new_comment(kiji.Visitor(s, ip="rotate"), aid, "related " + tc.mark())
    assert cards(aid) == first
    # a related article's new title
    rid = int(first[0][0])
    title = "関連題%s" % uuid.uuid4().hex[:8]
    f = s.tmp / ("rel-%s.md" % uuid.uuid4().hex[:8])
    f.write_text("---\ntitle: %s\n---\n" % title, "utf-8")
    s.cli("post", "edit", str(rid), str(f))
    assert (str(rid), title) in cards(aid), "the related block still shows the old title"
    # tags: the oldest post of the category, given the page's tags and a
    # new one the page gets too, shares more than any card can; without
    # tags it is gone again
    tags = [r[0] for r in s.sql("SELECT t.name FROM article_tags x JOIN tags t "
                                "ON t.id = x.tag_id WHERE x.article_id = ?", (aid,))]
    tags.append("関連%s" % uuid.uuid4().hex[:8])
    shown = [c[0] for c in cards(aid)]
    rest = [str(r[0]) for r in s.sql(
        "SELECT a.id FROM articles a WHERE a.category_id = (SELECT category_id "
        "FROM articles WHERE id = ?) AND a.id <> ? AND a.kind = 'post' AND "
        "a.status = 'published' ORDER BY a.published_at, a.id", (aid, aid))]
    rest = [r for r in rest if r not in shown]
    assert rest, "every post of the category of article %d is related" % aid
    oid = rest[0]
    f = s.tmp / ("tag-%s.md" % uuid.uuid4().hex[:8])
    f.write_text("---\ntags:\n" + "".join("  - \"%s\"\n" % t for t in tags) + "---\n",
                 "utf-8")
    s.cli("post", "edit", str(aid), str(f))
    s.cli("post", "edit", oid, str(f))
    assert cards(aid)[0][0] == oid, "the article sharing the most tags is not first"
    f.write_text("---\ntags: []\n---\n", "utf-8")
    s.cli("post", "edit", oid, str(f))
    assert oid not in [c[0] for c in cards(aid)], "an article without tags is still related"
    # a new article in the category is its newest: it joins the block
    cat = s.sql("SELECT c.slug FROM articles a JOIN categories c ON c.id = a.category_id "
                "WHERE a.id = ?", (aid,))[0][0]
    f = s.tmp / ("new-%s.md" % uuid.uuid4().hex[:8])
    fresh = "新着%s" % uuid.uuid4().hex[:8]
    f.write_text("---\ntitle: %s\ncategory: %s\nstatus: published\n---\n本文。\n"
                 % (fresh, cat), "utf-8")
    nid = int(s.cli("post", "new", str(f)).stdout.strip())
    assert (str(nid), fresh) in cards(aid), "the new article of the category is not related"
    # taken down: gone from the block
    f.write_text("---\nstatus: draft\n---\n", "utf-8")
    s.cli("post", "edit", str(nid), str(f))
    assert str(nid) not in [c[0] for c in cards(aid)], "a draft is still shown as related"


# ---- 9. comments -----------------------------------------------------------------------------

def _comment_lis(d):
    sec = d.select_one("section#comments")
    assert sec is not None, "no section#comments"
    return sec, sec.select("li.comment")


def test_comments_heading_and_form():
    a = main_article()
    d = article_page(a).doc
    sec, _ = _comment_lis(d)
    h2 = sec.select_one("h2")
    assert h2 is not None and "コメント" in h2.text(), "section#comments h2 %r" % (h2 and h2.text())
    f = d.select_one("div#respond form#comment-form")
    assert f is not None, "no div#respond > form#comment-form"
    assert f.get("action") == "/articles/%d/comments" % a.id, "form action %r" % f.get("action")
    assert (f.get("method") or "").lower() == "post", "form method %r" % f.get("method")


def test_comment_count_and_ids_match_db():
    m = model()
    for a in comment_articles():
        d = article_page(a).doc
        sec, lis = _comment_lis(d)
        want = {c.id for c in m.approved_comments(a.id)}
        got = []
        for li in lis:
            mm = re.fullmatch(r"comment-([1-9][0-9]*)", li.get("id") or "")
            assert mm, "/articles/%d: li.comment id %r" % (a.id, li.get("id"))
            got.append(int(mm.group(1)))
        assert len(got) == len(set(got)), "/articles/%d: duplicate comment ids" % a.id
        assert len(got) == len(want), "/articles/%d: %d li.comment, %d approved in DB" % (
            a.id, len(got), len(want))
        assert set(got) == want, "/articles/%d: ids differ: extra %s missing %s" % (
            a.id, sorted(set(got) - want)[:10], sorted(want - set(got))[:10])
        if want:
            tops = sec.select("ol.comment-list > li.comment")
            assert tops, "/articles/%d: no top-level li in ol.comment-list" % a.id


def test_replies_nested_under_true_parent():
    m = model()
    limit = m.display_depth_limit()
    deepest = 0
    for a in comment_articles():
        d = article_page(a).doc
        sec, lis = _comment_lis(d)
        shown = {int(li.get("id")[8:]): li for li in lis if (li.get("id") or "").startswith("comment-")}
        for cid, li in shown.items():
            c = m.comments[cid]
            depth = m.comment_depth(c)
            deepest = max(deepest, depth)
            # ancestors that are not shown (not approved) make the place undefined
            chain = c
            ok = True
            while chain.parent_id:
                chain = m.comments[chain.parent_id]
                if chain.id not in shown:
                    ok = False
            if not ok:
                continue
            disp = min(depth, limit)
            dom_parent_li = li.closest("li.comment")
            container = li.parent
            if disp == 1:
                assert dom_parent_li is None, \
                    "/articles/%d: top-level comment %d is nested in %s" % (
                        a.id, cid, dom_parent_li.get("id"))
                assert container.tag == "ol" and "comment-list" in container.classes, \
                    "/articles/%d: comment %d is in %r, not ol.comment-list" % (a.id, cid, container)
            else:
                want = m.ancestor_at(c, disp - 1)
                assert dom_parent_li is not None, \
                    "/articles/%d: reply %d (parent %d, depth %d) is shown at top level" % (
                        a.id, cid, c.parent_id, depth)
                assert dom_parent_li.get("id") == "comment-%d" % want.id, \
                    ("/articles/%d: reply %d (true parent %d, depth %d, display depth %d) "
                     "is nested in %s, want comment-%d") % (
                        a.id, cid, c.parent_id, depth, disp, dom_parent_li.get("id"), want.id)
                assert container.tag == "ol" and "children" in container.classes \
                    and container.parent is dom_parent_li, \
                    "/articles/%d: reply %d is not in its parent's ol.children" % (a.id, cid)
            dd = li.get("data-depth")
            assert dd is not None, "/articles/%d: comment %d has no data-depth" % (a.id, cid)
            assert dd == str(disp), "/articles/%d: comment %d data-depth %s, want %d (true depth %d)" % (
                a.id, cid, dd, disp, depth)
    assert deepest >= 2, "no replies in the checked articles: nesting not exercised"


def test_comment_like_counts_and_controls():
    m = model()
    n = 0
    for a in comment_articles():
        d = article_page(a).doc
        _, lis = _comment_lis(d)
        for li in lis:
            cid = int(li.get("id")[8:])
            c = m.comments[cid]
            forms = own(li, "form.like-form")
            assert len(forms) == 1, "comment %d: %d like forms" % (cid, len(forms))
            assert forms[0].get("action") == "/comments/%d/like" % cid, \
                "comment %d like action %r" % (cid, forms[0].get("action"))
            cnt = own(li, "span.like-count")
            assert len(cnt) == 1, "comment %d: %d span.like-count" % (cid, len(cnt))
            digits = re.sub(r"[^0-9]", "", cnt[0].text())
            assert digits == str(c.like_count), "comment %d like count %r, want %d" % (
                cid, cnt[0].text(), c.like_count)
            rl = own(li, "a.reply-link")
            # relative (?replytocom=) or with the article's path: the same URL
            assert len(rl) == 1 and rl[0].get("href") in (
                "?replytocom=%d#respond" % cid,
                "/articles/%d?replytocom=%d#respond" % (a.id, cid)), \
                "comment %d reply link %r" % (cid, rl and rl[0].get("href"))
            n += 1
    assert n, "no comments checked"


def test_comment_author_date_body():
    m = model()
    tz = kiji.zoneinfo.ZoneInfo(m.setting("site.timezone") or "Asia/Tokyo")
    for a in comment_articles():
        d = article_page(a).doc
        _, lis = _comment_lis(d)
        for li in lis:
            cid = int(li.get("id")[8:])
            c = m.comments[cid]
            au = own(li, "span.comment-author")
            assert len(au) == 1 and au[0].text_norm(), "comment %d author" % cid
            if c.nickname:
                assert au[0].text_norm() == re.sub(r"\s+", " ", c.nickname).strip(), \
                    "comment %d author %r, want %r" % (cid, au[0].text_norm(), c.nickname)
            t = own(li, "time.comment-date")
            assert len(t) == 1 and t[0].get("datetime"), "comment %d: time.comment-date[datetime]" % cid
            text = t[0].text().strip()
            assert DATE_RE.match(text), "comment %d date %r" % (cid, text)
            assert text == kiji.ja_date(c.created_at, tz), "comment %d date %r, want %r" % (
                cid, text, kiji.ja_date(c.created_at, tz))
            b = own(li, "div.comment-body")
            assert len(b) == 1 and b[0].text_norm(), "comment %d body" % cid
            for ln in b[0].select("a"):
                assert re.match(r"https?://", ln.get("href") or ""), \
                    "comment %d: link with href %r" % (cid, ln.get("href"))


# ---- 10. trackbacks ---------------------------------------------------------------------------

def test_trackbacks_or_none_sentence():
    m = model()
    vis = m.visible_posts()
    with_tb = [a for a in vis if m.approved_comments(a.id, ("trackback", "pingback"))]
    without = [a for a in vis if not m.approved_comments(a.id, ("trackback", "pingback"))]
    cases = [main_article()] + with_tb[:2] + without[:1]
    for a in cases:
        d = article_page(a).doc
        sec = d.select_one("section#trackbacks")
        assert sec is not None, "/articles/%d: no section#trackbacks" % a.id
        want = m.approved_comments(a.id, ("trackback", "pingback"))
        lis = sec.select("ol.trackback-list > li.trackback")
        none = sec.select_one("p.no-trackbacks")
        if want:
            assert len(lis) == len(want), "/articles/%d: %d li.trackback, %d in DB" % (
                a.id, len(lis), len(want))
            assert none is None, "/articles/%d: trackbacks and the no-trackbacks sentence" % a.id
        else:
            assert not lis, "/articles/%d: li.trackback with none in DB" % a.id
            assert none is not None and none.text_norm() == NO_TRACKBACKS, \
                "/articles/%d: p.no-trackbacks %r" % (a.id, none and none.text_norm())


# ---- 11. ranking -------------------------------------------------------------------------------

def test_ranking_has_five():
    m = model()
    d = article_page(main_article()).doc
    lis = d.select("aside#ranking ol.ranking > li")
    want = min(5, len(m.visible_posts()))
    assert len(lis) == want, "ranking has %d li, want %d" % (len(lis), want)
    ids = []
    for li in lis:
        assert li.select_one("span.cat-label") is not None, "ranking li without span.cat-label"
        links = [x for x in li.select("a[href]") if x.get("href").startswith("/articles/")]
        assert links, "ranking li without a link to /articles/<id>"
        rid = kiji.ids_from_links(links[:1])[0]
        assert rid in m.articles and m.visible(m.articles[rid]), "ranking links invisible %d" % rid
        assert links[0].text_norm(), "ranking link without a title"
        ids.append(rid)
    assert len(set(ids)) == len(ids), "duplicate ranking entries %s" % ids


# ---- 12. page top ---------------------------------------------------------------------------------

def test_page_top_link():
    d = article_page(main_article()).doc
    a = d.select_one("a#page-top")
    assert a is not None, "no a#page-top"
    assert a.get("href") == "#top", "page-top href %r" % a.get("href")
    assert a.text_norm() == "PAGE TOP", "page-top text %r" % a.text_norm()
    body = d.select_one("body")
    assert body is not None and body.get("id") == "top", "body id %r" % (body and body.get("id"))


# ---- every page's head ------------------------------------------------------------------------------

def test_html_lang_title_description():
    d = article_page(main_article()).doc
    html = d.select_one("html")
    assert html is not None and html.get("lang") == "ja", "html lang %r" % (html and html.get("lang"))
    assert d.select_one("head title") is not None, "no <title>"
    md = d.select_one('meta[name=description]')
    assert md is not None and md.get("content"), "no meta description"
    assert d.select_one("header.site-header a.site-title[href='/']") is not None, \
        "no header.site-header a.site-title to /"
    assert d.select("header.site-header nav.site-nav a[href^='/category/']"), \
        "no category links in nav.site-nav"


# ---- not found, HEAD, Host -------------------------------------------------------------------------

def _assert_404(path):
    r = get(path)
    assert r.status == 404, "GET %s: %d, want 404" % (path, r.status)
    assert r.content_type == "text/html", "GET %s: 404 Content-Type %r" % (path, r.header("content-type"))
    assert kiji.has_japanese(r.text), "GET %s: 404 page has no Japanese text: %r" % (path, r.text[:300])


def test_scheduled_article_is_404():
    m = model()
    now = kiji.now_epoch()
    sched = [a for a in m.articles.values()
             if a.status in ("scheduled", "published") and a.published_at and a.published_at > now + 60]
    assert sched, "the demo site has no scheduled (future) article (statuses: %s)" % (
        sorted({a.status for a in m.articles.values()}))
    for a in sched[:3]:
        _assert_404("/articles/%d" % a.id)


def test_draft_article_is_404():
    m = model()
    drafts = [a for a in m.articles.values() if a.status in ("draft", "trash")]
    assert drafts, "the demo site has no draft article (statuses: %s)" % (
        sorted({a.status for a in m.articles.values()}))
    for a in drafts[:3]:
        _assert_404("/articles/%d" % a.id)


def test_bad_article_ids_are_404():
    for p in ("/articles/0", "/articles/01", "/articles/abc", "/articles/99999999",
              "/articles/-1", "/articles/1.0", "/articles/999999999999999999999"):
        _assert_404(p)
    kiji.assert_alive()


def test_head_article():
    a = main_article()
    r = head("/articles/%d" % a.id)
    assert r.status == 200, "HEAD: %d" % r.status
    assert r.body == b"", "HEAD returned a body of %d bytes" % len(r.body)
    assert r.content_type == "text/html", "HEAD Content-Type %r" % r.header("content-type")
    cl = r.header("content-length")
    if cl is not None:
        assert cl.isdigit() and int(cl) > 0, "HEAD Content-Length %r" % cl
    r = head("/articles/99999999")
    assert r.status == 404 and r.body == b"", "HEAD missing article: %d, %d bytes" % (r.status, len(r.body))


def test_canonical_ignores_host_header():
    m = model()
    a = main_article()
    path = "/articles/%d" % a.id
    normal = page(path).doc.select_one("link[rel=canonical]")
    assert normal is not None, "no link[rel=canonical]"
    r = get(path, headers={"Host": "evil.example"})
    assert r.status == 200, "GET with Host: evil.example: %d" % r.status
    assert "evil.example" not in r.text, "the page echoes the Host header"
    can = r.doc.select_one("link[rel=canonical]")
    assert can is not None, "no link[rel=canonical]"
    base = m.setting("site.base_url")
    if base:
        assert can.get("href") == base.rstrip("/") + path, "canonical %r, want %r" % (
            can.get("href"), base.rstrip("/") + path)
    else:
        assert can.get("href").endswith(path), "canonical %r" % can.get("href")
    assert can.get("href") == normal.get("href"), "canonical depends on Host: %r vs %r" % (
        can.get("href"), normal.get("href"))
