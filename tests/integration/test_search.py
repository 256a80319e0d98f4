"""Search: GET /search?q= over real HTTP on the demo site. 1- and
2-character Japanese queries find what a brute-force scan of the model
finds, full-width equals half-width, paging links, highlighting through the
escaping writer, scheduled posts never found, odd queries answered without
a 5xx. Newest first by default, best first with ?sort=relevance, any other
sort a 400, and the order kept by the paging links."""

import collections
import re
import unicodedata
from urllib.parse import quote

import kiji
from kiji import get, page, model

CJK = re.compile(r"^[\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u4e00-\u9fff]+$")


def norm(s):
    """NFKC + case folding, as the index sees text (close enough for the
    kana/kanji and ASCII queries used here)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold())


def url(q, pg=None, sort=None):
    u = "/search?q=" + quote(q, safe="")
    if sort is not None:
        u += "&sort=" + sort
    return u if pg is None else u + "&page=%d" % pg


def result_ids(doc):
    links = doc.select("ol.search-results > li.card a.card-title")
    return kiji.ids_from_links(links)


def total_of(doc):
    p = doc.select_one("p.search-count")
    return int(p.get("data-total")) if p is not None else 0


def rel_link(doc, rel):
    nav = doc.select_one("nav.pagination")
    if nav is None:
        return None
    a = nav.select("a[rel~=%s]" % rel)
    assert len(a) <= 1, "%d pagination links with rel=%s" % (len(a), rel)
    return a[0].get("href") if a else None


def all_results(q, sort=None):
    """Every result id over all pages, and the total the page states."""
    d = page(url(q, sort=sort)).doc
    total = total_of(d)
    ids = result_ids(d)
    nxt = rel_link(d, "next")
    seen = 1
    while nxt and seen < 200:
        d = page(nxt.replace("&amp;", "&")).doc
        ids += result_ids(d)
        nxt = rel_link(d, "next")
        seen += 1
    return ids, total


def brute(q):
    """Visible posts whose NFKC-casefolded title or body holds q."""
    nq = norm(q)
    return sorted(a.id for a in model().visible_posts()
                  if nq in norm(a.title) or nq in norm(a.body_text))


def common_grams(n, k=1):
    """The k most common n-character kana/kanji strings of visible titles."""
    c = collections.Counter()
    for a in model().visible_posts():
        t = a.title
        for i in range(len(t) - n + 1):
            g = t[i:i + n]
            if CJK.match(g):
                c[g] += 1
    return [g for g, _ in c.most_common(k)]


# ---- the box ---------------------------------------------------------------------------

def test_search_box_on_every_page():
    for p in ("/", "/articles/%d" % model().visible_posts()[0].id):
        d = page(p).doc
        f = d.select_one("form[action=/search]")
        assert f is not None, "%s: no form action=/search" % p
        assert (f.get("method") or "get").lower() == "get", "%s: search form method" % p
        assert f.select_one("input[name=q]") is not None, "%s: no input name=q" % p


# ---- what it finds ------------------------------------------------------------------------

def test_one_and_two_character_queries_find_everything():
    for q in common_grams(1, 2) + common_grams(2, 2):
        ids, total = all_results(q)
        want = brute(q)
        assert want, "demo corpus has no %r" % q
        assert total == len(want), "%r: page says %d results, brute force %d" % (q, total, len(want))
        assert sorted(ids) == want, "%r: results differ from brute force\n got  %s\n want %s" % (
            q, sorted(ids)[:20], want[:20])
        assert len(set(ids)) == len(ids), "%r: an article on two pages" % q


def test_kanji_pair_not_split():
    """A 2-character query is a substring match, not its two characters."""
    q = common_grams(2, 1)[0]
    ids, _ = all_results(q)
    for aid in ids:
        a = model().articles[aid]
        assert norm(q) in norm(a.title) or norm(q) in norm(a.body_text), \
            "%r found article %d, which does not contain it" % (q, aid)


def test_fullwidth_equals_halfwidth():
    a = page(url("ＮＡＴＯ")).doc
    b = page(url("NATO")).doc
    c = page(url("nato")).doc
    assert total_of(a) > 0, "ＮＡＴＯ finds nothing"
    assert total_of(a) == total_of(b) == total_of(c), "ＮＡＴＯ/NATO/nato totals %d/%d/%d" % (
        total_of(a), total_of(b), total_of(c))
    assert result_ids(a) == result_ids(b) == result_ids(c), "ＮＡＴＯ and NATO rank differently"


def test_latin_prefix_and_hyphen():
    full = total_of(page(url("NATO")).doc)
    assert total_of(page(url("NAT")).doc) >= full > 0, "NAT finds fewer than NATO"
    ids, total = all_results("F-35")
    assert total > 0, "F-35 finds nothing"
    for aid in ids:
        a = model().articles[aid]
        assert re.search(r"(?<![0-9a-z])f-35", norm(a.title + "\n" + a.body_text)), \
            "F-35 found article %d without F-35" % aid


def test_terms_and_together():
    one, two = common_grams(2, 2)
    a, _ = all_results(one)
    b, _ = all_results(two)
    both, total = all_results(one + " " + two)
    assert sorted(both) == sorted(set(a) & set(b)), "%r AND %r is not the intersection" % (one, two)
    assert total == len(both)


def test_scheduled_and_drafts_never_found():
    m = model()
    now = kiji.now_epoch()
    hidden = [a for a in m.articles.values()
              if a.kind == "post" and not m.visible(a, now)]
    assert hidden, "the demo has no scheduled or draft posts"
    for a in hidden:
        t = a.title
        for q in {t[:4], t[-4:], a.title}:
            if not q.strip():
                continue
            r = get(url(q))
            assert r.status == 200, "%r: %d" % (q, r.status)
            assert a.id not in result_ids(r.doc), \
                "hidden article %d (%s) found by %r" % (a.id, a.status, q)


# ---- pages ------------------------------------------------------------------------------------

def test_pagination_links():
    q = common_grams(1, 1)[0]
    d1 = page(url(q)).doc
    total = total_of(d1)
    ids1 = result_ids(d1)
    per = len(ids1)
    assert total > per, "%r: %d results fit one page; no paging to test" % (q, total)
    assert rel_link(d1, "prev") is None, "page 1 has rel=prev"
    nxt = rel_link(d1, "next")
    assert nxt == url(q, 2), "page 1 rel=next %r, want %r" % (nxt, url(q, 2))
    d2 = page(nxt).doc
    assert rel_link(d2, "prev") == url(q), "page 2 rel=prev %r" % rel_link(d2, "prev")
    assert not set(result_ids(d2)) & set(ids1), "pages 1 and 2 share articles"
    last = (total + per - 1) // per
    dl = page(url(q, last)).doc
    assert rel_link(dl, "next") is None, "last page %d has rel=next" % last
    assert len(result_ids(dl)) == total - (last - 1) * per, "last page size"
    for bad in (url(q, last + 1), url(q) + "&page=0", url(q) + "&page=abc"):
        r = get(bad)
        assert r.status == 404, "%s: %d, want 404" % (bad, r.status)
        assert kiji.has_japanese(r.text), "%s: 404 page not Japanese" % bad


# ---- order ------------------------------------------------------------------------------------

def test_newest_first_by_default():
    """Over all pages, the matches in the listings' order (published_at,
    then id, descending), for a broad and a narrower query."""
    for q in common_grams(1, 1) + common_grams(2, 3)[2:]:
        nq = norm(q)
        want = [a.id for a in model().visible_posts()
                if nq in norm(a.title) or nq in norm(a.body_text)]
        ids, total = all_results(q)
        assert total == len(want), "%r: total %d, want %d" % (q, total, len(want))
        assert ids == want, "%r: not newest first\n got  %s\n want %s" % (
            q, ids[:12], want[:12])
        same, _ = all_results(q, "newest")
        assert same == ids, "%r: sort=newest differs from the default" % q
        d = page(url(q)).doc
        o = d.select_one("p.search-order")
        assert o is not None and o.get("data-sort") == "newest", "no p.search-order newest"
        links = [a.get("href") for a in o.select("a")]
        assert links == [url(q, sort="relevance")], "order links %r" % links


def test_relevance_when_asked():
    q = common_grams(1, 1)[0]
    ids, total = all_results(q, "relevance")
    want = brute(q)
    assert total == len(want), "%r best first: total %d, want %d" % (q, total, len(want))
    assert sorted(ids) == want, "%r best first: results differ from brute force" % q
    assert len(set(ids)) == len(ids), "%r best first: an article on two pages" % q
    d1 = page(url(q, sort="relevance")).doc
    o = d1.select_one("p.search-order")
    assert o is not None and o.get("data-sort") == "relevance", "no p.search-order relevance"
    assert [a.get("href") for a in o.select("a")] == [url(q)], "order link back to newest"
    assert rel_link(d1, "next") == url(q, 2, "relevance"), "rel=next drops the order: %r" % (
        rel_link(d1, "next"))
    d2 = page(url(q, 2, "relevance")).doc
    assert rel_link(d2, "prev") == url(q, sort="relevance"), "rel=prev %r" % rel_link(d2, "prev")


def test_unknown_sort_is_400():
    q = common_grams(1, 1)[0]
    for bad in ("", "RELEVANCE", "oldest", "relevance%00", "newest,relevance"):
        r = get(url(q) + "&sort=" + bad)
        assert r.status == 400, "sort=%r: %d, want 400" % (bad, r.status)
    # an order on a query with nothing to search is still checked
    assert get("/search?q=&sort=bogus").status == 400


# ---- highlighting -----------------------------------------------------------------------------

def test_matches_highlighted():
    q = common_grams(2, 1)[0]
    d = page(url(q)).doc
    marks = d.select("ol.search-results mark")
    assert marks, "%r: no <mark> in the results" % q
    for mk in marks:
        assert not mk.child_elements(), "<mark> holds markup"
        assert norm(q) in norm(mk.text()), "<mark>%s</mark> for query %r" % (mk.text(), q)
    snippets = d.select("ol.search-results p.snippet")
    assert snippets, "no p.snippet"
    assert any(s.select("mark") for s in snippets), "no snippet has a mark"


def test_query_echo_escaped():
    q = '<script>alert("x")</script>&\'' + common_grams(2, 1)[0]
    r = page(url(q))
    assert "<script>alert" not in r.text, "query echoed unescaped"
    h1 = r.doc.select_one("h1")
    assert q in h1.text(), "heading does not show the query: %r" % h1.text()
    box = r.doc.select_one("form[action=/search] input[name=q]")
    assert box is not None and box.get("value") == q, "search box value %r" % (
        box.get("value") if box else None)
    assert r.header("cache-control") is not None


# ---- odd queries ------------------------------------------------------------------------------

def _prompt(r, what):
    assert r.status == 200, "%s: %d, want 200" % (what, r.status)
    assert r.doc.select_one("p.search-prompt") is not None, "%s: no 'enter a term' prompt" % what
    assert not result_ids(r.doc), "%s: results listed" % what


def test_empty_and_unsearchable_queries_ask_for_a_term():
    for q in ("/search", "/search?q=", "/search?q=%20%20", "/search?q=" + quote("、。！？・"),
              "/search?q=" + quote("😀👍🏽🇯🇵"), "/search?q=" + quote('"*()^-+:')):
        _prompt(get(q), q)
    kiji.assert_alive()


def test_long_query_trimmed_with_notice():
    q = ("戦闘機" * 100)[:300]
    r = get(url(q))
    assert r.status == 200, "300-character query: %d" % r.status
    n = r.doc.select_one("p.search-notice")
    assert n is not None and kiji.has_japanese(n.text()), "no trimmed notice"
    box = r.doc.select_one("form[action=/search] input[name=q]")
    assert box is not None and len(box.get("value")) == 100, "trimmed query length %d" % (
        len(box.get("value") or ""))
    r = get(url("a" * 5000))
    assert r.status < 500, "5000-character query: %d" % r.status


def test_invalid_utf8_is_400():
    for q in ("/search?q=%FF", "/search?q=%E3%81", "/search?q=a%C0%AF"):
        r = get(q)
        assert r.status == 400, "%s: %d, want 400" % (q, r.status)
        assert kiji.has_japanese(r.text), "%s: 400 page not Japanese" % q
    kiji.assert_alive()


def test_odd_queries_never_5xx():
    odd = ['"', "'", "*", "NEAR(a b)", "a OR b", "a AND", "NOT", "title:x", "body:米",
           "-x", "^x", "x*", "(((", "\\", "%", "_", "米*", "\t\n", "\u3000",
           "e\u0301", "\u200b", "ｱ", "㍿", "①", "\U0001F600" * 50, "a" * 300,
           "米" * 300, "\u0301\u0301\u0301"]
    for q in odd:
        r = get(url(q))
        assert r.status < 500, "%r: %d" % (q, r.status)
        assert r.status == 200, "%r: %d, want 200" % (q, r.status)
    for raw in ("/search?q=%00", "/search?q=a&q=b", "/search?q=%25FF", "/search?q=a&page=-1",
                "/search?q=a&page=99999999999999999999"):
        r = get(raw)
        assert r.status < 500, "%s: %d" % (raw, r.status)
    kiji.assert_alive()
