"""Comment sorting and pages (issue 16, item 3): ?csort=old|new|likes
orders the top-level threads (replies stay under their parent, oldest
first), comments.per_page threads a page with ?cpage=N and rel=prev/next,
GET /comments/<cid> and the poster's 303 land on the page that holds the
comment, only canonical views are answered (and cached), and every view is
invalidated by a comment, a like or moderation on its article.

Own server "cpages": no demo comments (each test writes the threads it
reads), comments.per_page=3, http.trusted_proxies=127.0.0.1 so each
poster has their own address."""

import re
import sqlite3
import time

import kiji
import test_comments as tc
from kiji import Visitor, next_ip

PER = 3
JSON = {"Accept": "application/json"}


def srv():
    return kiji.server("cpages", articles=30, comments=0, seed=16,
                       settings={"http.trusted_proxies": "127.0.0.1",
                                 "comments.per_page": str(PER)})


_used = set()


def fresh_article():
    """An open article no other test here has written to."""
    for aid in tc.open_articles(srv()):
        if aid not in _used:
            _used.add(aid)
            return aid
    raise AssertionError("cpages: no unused open article left")


def poster():
    return Visitor(srv(), ip=next_ip())


def posted(r, aid):
    """The new comment's id from a 303 to its page:
    /articles/<aid>[?cpage=N]#comment-<id>."""
    assert r.status == 303, "POST comment: %d, want 303\n%s" % (r.status, r.text[:400])
    loc = r.header("location") or ""
    m = re.fullmatch(r"/articles/%d(\?cpage=[2-9][0-9]*)?#comment-([1-9][0-9]*)" % aid, loc)
    assert m, "Location %r, want /articles/%d[?cpage=N]#comment-<id>" % (loc, aid)
    return int(m.group(2))


def comment(aid, text, parent=0, v=None):
    return posted(tc.post(v or poster(), aid, "%s %s" % (text, tc.mark()),
                                 parent=parent), aid)


def like(cid, times):
    for _ in range(times):
        r = poster().post("/comments/%d/like" % cid, body=b"", headers=JSON)
        assert r.status == 200, "like %d: %d %s" % (cid, r.status, r.text[:200])


def threads(aid):
    """Five threads T1..T5 (oldest first) with replies R1 (to T1, after
    T3), R2 (to R1, after T5), R3 (to T4); likes: T2 2, T4 3, R1 5 (a
    reply's likes do not lift its thread). Returns the ids by name."""
    ids = {}
    ids["T1"] = comment(aid, "T1")
    ids["T2"] = comment(aid, "T2")
    ids["T3"] = comment(aid, "T3")
    ids["R1"] = comment(aid, "R1", parent=ids["T1"])
    ids["T4"] = comment(aid, "T4")
    ids["T5"] = comment(aid, "T5")
    ids["R2"] = comment(aid, "R2", parent=ids["R1"])
    ids["R3"] = comment(aid, "R3", parent=ids["T4"])
    like(ids["T2"], 2)
    like(ids["T4"], 3)
    like(ids["R1"], 5)
    return ids


def shown(r):
    """(top-level ids in order, {id: parent id on the page or 0}, the
    children ids of each id in order) of a page's comment list."""
    doc = r.doc
    top, parent, kids = [], {}, {}
    for li in doc.select("li.comment"):
        cid = int(li.get("id").split("-")[1])
        up = li.closest("li.comment")
        p = int(up.get("id").split("-")[1]) if up is not None else 0
        parent[cid] = p
        if p:
            kids.setdefault(p, []).append(cid)
        else:
            top.append(cid)
    return top, parent, kids


def rel_links(r):
    """<link rel=prev/next> of the head, as {rel: href}."""
    return {m.group(1): m.group(2).replace("&amp;", "&") for m in re.finditer(
        r'<link rel="(prev|next)" href="([^"]*)">', r.text)}


def view(aid, sort=None, page=1):
    q = []
    if sort:
        q.append("csort=" + sort)
    if page > 1:
        q.append("cpage=%d" % page)
    return "/articles/%d%s" % (aid, "?" + "&".join(q) if q else "")


def all_pages(aid, sort=None):
    """Every page of a sort, following rel=next from the first: the
    top-level ids in order, and every page's (parent, kids) merged."""
    top, parent, kids, seen = [], {}, {}, []
    url = view(aid, sort)
    while url:
        assert url not in seen, "rel=next loops back to %s" % url
        seen.append(url)
        r = srv().page(url)
        t, p, k = shown(r)
        assert t, "%s shows no thread" % url
        assert len(t) <= PER, "%s shows %d threads, per_page is %d" % (url, len(t), PER)
        dup = set(parent) & set(p)
        assert not dup, "%s shows again %r" % (url, dup)
        top += t
        parent.update(p)
        kids.update(k)
        assert tc.heading_count(r.doc) == approved(aid), \
            "%s: heading count %d, the article has %d" % (url, tc.heading_count(r.doc),
                                                          approved(aid))
        url = rel_links(r).get("next")
    return top, parent, kids, seen


def approved(aid):
    return srv().sql("SELECT COUNT(*) FROM comments WHERE article_id = ? AND "
                     "status = 'approved' AND type = 'comment'", (aid,))[0][0]


def db_comments(aid):
    return srv().sql("SELECT id, parent_id, created_at, like_count FROM comments "
                     "WHERE article_id = ? AND status = 'approved' AND type = 'comment' "
                     "ORDER BY created_at, id", (aid,))


def x_cache(path, v=None):
    r = (v or srv()).get(path)
    assert r.status == 200, "GET %s: %d" % (path, r.status)
    return r.header("x-cache")


def warm(path):
    x_cache(path)
    assert x_cache(path) == "hit", "%s: the second GET is no cache hit" % path


# ---- order -------------------------------------------------------------------------

def test_threads_in_each_sort_with_replies_under_parents():
    aid = fresh_article()
    ids = threads(aid)
    T = [ids["T%d" % i] for i in range(1, 6)]
    want = {
        None: T,
        "new": list(reversed(T)),
        # likes of the thread's first comment; ties oldest first
        "likes": [ids["T4"], ids["T2"], ids["T1"], ids["T3"], ids["T5"]],
    }
    rows = db_comments(aid)
    for sort, order in want.items():
        top, parent, kids, pages = all_pages(aid, None if sort is None else sort)
        assert top == order, "csort=%s: threads %r, want %r" % (sort, top, order)
        assert len(pages) == 2, "csort=%s: %d pages for 5 threads, want 2" % (sort, len(pages))
        assert set(parent) == {r["id"] for r in rows}, \
            "csort=%s: the pages together do not show every comment once" % sort
        for r in rows:
            assert parent[r["id"]] == (r["parent_id"] or 0), \
                "csort=%s: comment %d shown under %r, its parent is %r" % (
                    sort, r["id"], parent[r["id"]], r["parent_id"])
        for p, k in kids.items():
            assert k == sorted(k), "csort=%s: replies to %d not oldest first: %r" % (sort, p, k)
    # the reply whose thread moves moves with it: R2 under R1 under T1
    top, parent, _, _ = all_pages(aid, "likes")
    assert parent[ids["R2"]] == ids["R1"] and parent[ids["R1"]] == ids["T1"]


def test_sort_setting_changes_the_default():
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    with tc.setting(s, "comments.sort", "likes"):
        top, _, _, pages = all_pages(aid)
        assert top[0] == ids["T4"], "comments.sort=likes: first thread %d, want T4" % top[0]
        # the default is now spelled by no argument; old is the one named
        r = s.get("/articles/%d?csort=likes" % aid)
        assert r.status == 302 and r.header("location") == "/articles/%d" % aid, \
            "?csort=likes under comments.sort=likes: %d %r" % (r.status, r.header("location"))
        top, _, _, _ = all_pages(aid, "old")
        assert top[0] == ids["T1"], "?csort=old: first thread %d, want T1" % top[0]
    top, _, _, _ = all_pages(aid)
    assert top[0] == ids["T1"], "the default back to old: first thread %d" % top[0]


def test_sort_links_without_js():
    aid = fresh_article()
    threads(aid)
    r = srv().page("/articles/%d" % aid)
    nav = r.doc.select_one("nav.comment-sort")
    assert nav is not None, "no nav.comment-sort on the article page"
    assert r.text.index('class="comment-sort"') < r.text.index('class="comment-list"'), \
        "the sort links are not above the comments"
    links = {a.text_norm(): a.get("href") for a in nav.select("a")}
    cur = nav.select("[aria-current]")
    assert len(cur) == 1 and cur[0].tag != "a", "the current sort is not marked (or is a link)"
    assert len(links) == 2, "want links to the two other sorts: %r" % links
    hrefs = sorted(h.split("#")[0] for h in links.values())
    assert hrefs == ["/articles/%d?csort=likes" % aid, "/articles/%d?csort=new" % aid], hrefs
    for h in links.values():
        assert h.endswith("#comments"), "sort link %r does not land on the comments" % h
        p = srv().page(h.split("#")[0])
        c = p.doc.select_one("nav.comment-sort [aria-current]")
        assert c is not None and c.tag != "a" and c.text_norm() in links, \
            "%s does not mark its own sort" % h
        back = [a.get("href") for a in p.doc.select("nav.comment-sort a")]
        assert "/articles/%d#comments" % aid in back, "%s: no link back to the default" % h
    # plain links: no form, no script needed
    assert nav.select_one("form") is None and nav.select_one("button") is None


# ---- pages -----------------------------------------------------------------------

def test_pages_have_rel_prev_next_and_page_links():
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    p1 = s.page("/articles/%d" % aid)
    assert rel_links(p1) == {"next": "/articles/%d?cpage=2" % aid}, rel_links(p1)
    nav = p1.doc.select_one("nav.comment-pages")
    assert nav is not None, "no visible comment page links on page 1"
    nums = [a.get("href") for a in nav.select("a")]
    assert "/articles/%d?cpage=2#comments" % aid in nums, nums
    assert nav.select_one("a[rel=next]") is not None
    p2 = s.page("/articles/%d?cpage=2" % aid)
    assert rel_links(p2) == {"prev": "/articles/%d" % aid}, rel_links(p2)
    canon = p2.doc.select_one("link[rel=canonical]").get("href")
    assert canon.endswith("/articles/%d?cpage=2" % aid), "page 2's canonical %r" % canon
    t2, _, _ = shown(p2)
    assert t2 == [ids["T4"], ids["T5"]], "page 2 threads %r" % t2
    # sorted views name the default view as canonical, and page their own way
    n2 = s.page("/articles/%d?csort=new&cpage=2" % aid)
    assert rel_links(n2) == {"prev": "/articles/%d?csort=new" % aid}, rel_links(n2)
    assert n2.doc.select_one("link[rel=canonical]").get("href").endswith("/articles/%d" % aid)
    # per_page 0 (the shipped default): one page, no page links
    with tc.setting(s, "comments.per_page", "0"):
        one = s.page("/articles/%d" % aid)
        assert rel_links(one) == {} and one.doc.select_one("nav.comment-pages") is None
        assert len(shown(one)[0]) == 5
        assert s.get("/articles/%d?cpage=2" % aid).status == 404


def test_comment_link_lands_on_its_page_and_anchor():
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    want_page = {"T1": 1, "R1": 1, "R2": 1, "T2": 1, "T3": 1, "T4": 2, "R3": 2, "T5": 2}
    for name, cid in ids.items():
        r = s.get("/comments/%d" % cid)
        assert r.status == 302, "/comments/%d (%s): %d" % (cid, name, r.status)
        loc = r.header("location")
        n = want_page[name]
        want = "/articles/%d%s#comment-%d" % (aid, "?cpage=%d" % n if n > 1 else "", cid)
        assert loc == want, "/comments/%d (%s): Location %r, want %r" % (cid, name, loc, want)
        p = s.page(loc.split("#")[0])
        assert tc.li_of(p.doc, cid) is not None, "%s does not show comment %d" % (loc, cid)
    # the default sort decides the page
    with tc.setting(s, "comments.sort", "new"):
        loc = s.get("/comments/%d" % ids["T1"]).header("location")
        assert loc == "/articles/%d?cpage=2#comment-%d" % (aid, ids["T1"]), loc
    assert s.get("/comments/999999999").status == 404
    assert s.get("/comments/0").status == 404
    assert s.get("/comments/01").status == 404
    # a comment readers are not shown has no place
    s.cli("comments", "spam", str(ids["T3"]))
    assert s.get("/comments/%d" % ids["T3"]).status == 404


def test_poster_lands_on_the_page_with_their_comment():
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    # page 2 warm in the cache before the post
    warm("/articles/%d?cpage=2" % aid)
    v = poster()
    r = tc.post(v, aid, "新しいスレッド %s" % tc.mark())
    cid = posted(r, aid)
    # a sixth thread, oldest first: the end of page 2
    assert r.header("location") == "/articles/%d?cpage=2#comment-%d" % (aid, cid), \
        r.header("location")
    assert "kiji_w" in v.cookies, "no kiji_w write cookie after the post"
    p = v.page(r.header("location").split("#")[0])
    assert tc.li_of(p.doc, cid) is not None, "the poster's page 2 misses their comment"
    # a reply to a thread on page 1 goes to page 1
    v2 = poster()
    r = tc.post(v2, aid, "返信 %s" % tc.mark(), parent=ids["R1"])
    rid = posted(r, aid)
    assert r.header("location") == "/articles/%d#comment-%d" % (aid, rid), r.header("location")
    assert tc.li_of(v2.page("/articles/%d" % aid).doc, rid) is not None
    # a seventh thread opens page 3
    v3 = poster()
    r = tc.post(v3, aid, "三ページ目 %s" % tc.mark())
    cid3 = posted(r, aid)
    assert r.header("location") == "/articles/%d?cpage=3#comment-%d" % (aid, cid3)
    assert tc.li_of(v3.page("/articles/%d?cpage=3" % aid).doc, cid3) is not None
    # a like without JS comes back to the comment's page
    r = poster().post("/comments/%d/like" % ids["T5"], body=b"")
    assert r.status == 303 and r.header("location") == \
        "/articles/%d?cpage=2#comment-%d" % (aid, ids["T5"]), r.header("location")


def test_poster_with_a_held_comment_sees_it_on_its_page():
    """A held comment is the poster's own: on their page, never cached."""
    aid = fresh_article()
    threads(aid)
    s = srv()
    with tc.setting(s, "comments.moderation", "all"):
        v = poster()
        r = tc.post(v, aid, "保留 %s" % tc.mark())
        cid = posted(r, aid)
        assert r.header("location") == "/articles/%d?cpage=2#comment-%d" % (aid, cid)
        p = v.page("/articles/%d?cpage=2" % aid)
        li = tc.li_of(p.doc, cid)
        assert li is not None and "pending" in li.classes, "held comment not shown to its poster"
        assert p.header("x-cache") is None, "the poster's own page came from the cache"
        # others: not there, and page 2 holds what it did
        o = s.page("/articles/%d?cpage=2" % aid)
        assert tc.li_of(o.doc, cid) is None
        assert s.get("/comments/%d" % cid).status == 404


def test_non_canonical_views_are_404_or_redirected():
    aid = fresh_article()
    threads(aid)
    s = srv()
    a = "/articles/%d" % aid
    redirects = {
        "cpage=1": a,
        "csort=old": a,
        "csort=old&cpage=1": a,
        "csort=new&cpage=1": a + "?csort=new",
        "cpage=2&csort=new": a + "?csort=new&cpage=2",
        "csort=old&cpage=2": a + "?cpage=2",
        "cpage=1&utm_source=x": a + "?utm_source=x",
    }
    for q, want in redirects.items():
        r = s.get("%s?%s" % (a, q))
        assert r.status == 302 and r.header("location") == want, \
            "?%s: %d %r, want 302 to %s" % (q, r.status, r.header("location"), want)
    before = cache_stats()
    for q in ("cpage=0", "cpage=02", "cpage=%2B2", "cpage=2x", "cpage=-1", "cpage=",
              "cpage=3", "cpage=999999", "cpage=1000000", "cpage=99999999999999999999",
              "csort=bogus", "csort=", "csort=NEW", "csort=new&csort=new",
              "csort=new&csort=likes", "cpage=2&cpage=2", "csort=likes&cpage=3",
              "page=2", "csort=%E6%96%B0"):
        r = s.get("%s?%s" % (a, q))
        assert r.status == 404, "?%s: %d, want 404" % (q, r.status)
    # the canonical views: answered and kept
    for q in ("cpage=2", "csort=new", "csort=likes&cpage=2"):
        warm("%s?%s" % (a, q))
    after = cache_stats()
    if kiji.kiji_bin().parent.name == "asan":
        assert before is not None, "the test build has no X-Test-Cache on /robots.txt"
    if before is not None:
        assert after[0] - before[0] == 3, \
            "cache entries %d -> %d: only the 3 canonical views may add one" % (
                before[0], after[0])
    # another argument: answered, not kept
    r = s.get("%s?csort=new&x=1" % a)
    assert r.status == 200 and r.header("x-cache") is None


def cache_stats():
    h = srv().get("/robots.txt").header("x-test-cache")
    if h is None:
        return None
    d = dict(kv.split("=") for kv in h.split())
    return int(d["entries"]), int(d["puts"]), int(d["evictions"])


# ---- cache -----------------------------------------------------------------------

def test_cache_variants_invalidated_by_comment_like_and_moderation():
    aid = fresh_article()
    other = fresh_article()
    ids = threads(aid)
    threads(other)
    s = srv()
    a = "/articles/%d" % aid
    views = [a, a + "?cpage=2", a + "?csort=new", a + "?csort=likes",
             a + "?csort=likes&cpage=2"]
    bystander = "/articles/%d?csort=new" % other

    def warm_all():
        for p in views + [bystander]:
            warm(p)

    def missed(p):
        """Not a cache hit. On PostgreSQL another process's commit
        reaches the server as a notification, a moment after that
        process has exited: allow it half a second."""
        deadline = time.monotonic() + (0.5 if kiji.PG else 0)
        while True:
            xc = x_cache(p)
            if xc != "hit" or time.monotonic() >= deadline:
                return xc != "hit"
            time.sleep(0.02)

    def all_missed(what):
        for p in views:
            assert missed(p), "%s still a cache hit after %s" % (p, what)
        assert x_cache(bystander) == "hit", \
            "%s (another article) lost its cache entry after %s" % (bystander, what)

    # a new comment
    warm_all()
    cid = comment(aid, "新着", parent=ids["T5"])
    all_missed("a new comment")
    assert tc.li_of(s.page(a + "?cpage=2").doc, cid) is not None
    # a like (it reorders ?csort=likes)
    warm_all()
    like(ids["T5"], 4)
    all_missed("a like")
    top, _, _ = shown(s.page(a + "?csort=likes"))
    assert top[0] == ids["T5"], "T5 with 4 likes is not first: %r" % top
    # moderation (another process: the CLI), the comment leaves every view
    warm_all()
    s.cli("comments", "spam", str(cid))
    all_missed("moderation")
    for p in views:
        assert tc.li_of(s.page(p).doc, cid) is None, "%s still shows a spammed comment" % p
    # an edit of the article
    warm_all()
    md = s.cli("post", "get", str(aid)).stdout
    f = s.tmp / ("edit-%d.md" % aid)
    f.write_text(md.replace("\n---\n", "\n---\n追記あり。\n\n", 1), "utf-8")
    s.cli("post", "edit", str(aid), str(f))
    for p in views:
        assert missed(p), "%s still a cache hit after an edit" % p


def test_deleted_thread_start_keeps_its_place_and_replies():
    """A spammed first comment with a reply below it stays a thread (a
    "deleted" placeholder with its reply), on the same page and in the
    same place in every order; /comments/ of the reply still finds it."""
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    r2 = comment(aid, "R4", parent=ids["T2"])
    before = {sort: all_pages(aid, sort)[0] for sort in (None, "new")}
    s.cli("comments", "spam", str(ids["T2"]))
    for sort in (None, "new"):
        top, parent, _, _ = all_pages(aid, sort)
        assert top == before[sort], "csort=%s: threads %r, were %r" % (sort, top, before[sort])
        assert parent[r2] == ids["T2"], "the reply left its deleted parent"
    p = s.page("/articles/%d" % aid)
    li = tc.li_of(p.doc, ids["T2"])
    assert li is not None and "deleted" in li.classes, "no placeholder for the spammed T2"
    assert s.get("/comments/%d" % r2).header("location") == \
        "/articles/%d#comment-%d" % (aid, r2)
    # likes: the placeholder's likes count for nothing
    top, _, _, _ = all_pages(aid, "likes")
    assert top.index(ids["T2"]) > top.index(ids["T1"]), top


def test_reply_link_to_a_comment_on_a_later_page():
    """Without JS, ?replytocom= of a comment on page 2 gives a form that
    replies to it, and the reply lands on page 2."""
    aid = fresh_article()
    ids = threads(aid)
    v = poster()
    p2 = v.page("/articles/%d?cpage=2" % aid)
    link = tc.li_of(p2.doc, ids["T4"]).select_one("a.reply-link").get("href")
    r = v.page(link.split("#")[0])
    f = r.doc.select_one("form#comment-form input[name=parent]")
    assert f is not None and f.get("value") == str(ids["T4"]), \
        "%s: the form does not reply to T4 (%r)" % (link, f and f.get("value"))
    tok = r.doc.select_one("form#comment-form input[name=token]").get("value")
    r = tc.post(v, aid, "二ページ目への返信 %s" % tc.mark(), parent=ids["T4"], token=tok)
    rid = posted(r, aid)
    assert r.header("location") == "/articles/%d?cpage=2#comment-%d" % (aid, rid)


def test_trackbacks_on_every_page():
    """Trackbacks are not threads: every comment page lists them all, and
    the heading counts readers' comments only."""
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    con = kiji.connect(s.db)
    try:
        with con:
            tb = con.execute(
                "INSERT INTO comments(article_id, type, nickname, url, body, created_at,"
                " status) VALUES (?, 'trackback', 'よそのブログ', 'https://example.org/tb',"
                " 'トラックバックの抜粋', ?, 'approved')", (aid, int(time.time()))).lastrowid
            con.execute("UPDATE articles SET comment_count = comment_count + 1 WHERE id = ?",
                        (aid,))
    finally:
        con.close()
    top, _, _, pages = all_pages(aid)  # checks the heading on each page
    assert top == [ids["T%d" % i] for i in range(1, 6)], "a trackback became a thread: %r" % top
    for url in pages + [view(aid, "new", 2)]:
        p = s.page(url)
        tbs = [li.get("id") for li in p.doc.select("li.trackback")]
        assert tbs == ["comment-%d" % tb], "%s: trackbacks %r" % (url, tbs)
    loc = s.get("/comments/%d" % tb).header("location")
    assert loc == "/articles/%d#comment-%d" % (aid, tb), loc


def test_page_past_the_end_after_moderation_is_404():
    """A page that existed is gone once its threads are: 404, and its old
    copy is not served."""
    aid = fresh_article()
    ids = threads(aid)
    s = srv()
    warm("/articles/%d?cpage=2" % aid)
    # T4's reply too, or T4 would stay as a placeholder thread over it
    s.cli("comments", "spam", str(ids["T4"]), str(ids["T5"]), str(ids["R3"]))
    assert s.get("/articles/%d?cpage=2" % aid).status == 404
    assert s.get("/articles/%d?cpage=2" % aid).status == 404
